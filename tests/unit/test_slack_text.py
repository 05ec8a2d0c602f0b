"""Slack's text format both ways (``slack_text``) and Block Kit limits (``slack_blocks``): what
Slack sends is decoded into what the person saw, and plain text is escaped exactly once."""

from __future__ import annotations

import pytest

from bot.adapters.slack_blocks import SECTION_MAX_CHARS, render, render_parts
from bot.adapters.slack_text import escape, mentioned_users, split_for_blocks, to_plain
from bot.commands import render_hints
from bot.dialogs import replies
from bot.messages import Button, ChannelRef, Outbound

DM = ChannelRef("slack", "D0CUSTOMER")


@pytest.mark.parametrize(
    ("wire", "plain"),
    [
        ("tom &amp; jerry &lt;3 &gt;_&lt;", "tom & jerry <3 >_<"),
        ("&amp;amp; is how you write &amp;", "&amp; is how you write &"),
        ("<https://x.test/a?b=1&amp;c=2|the docs>", "the docs (https://x.test/a?b=1&c=2)"),
        ("<https://x.test/a>", "https://x.test/a"),
        ("<https://x.test|x.test>", "https://x.test"),
        ("<mailto:ada@example.com|ada@example.com>", "ada@example.com"),
        ("ask <@U0DANA>", "ask @Dana"),
        ("ask <@U0NOBODY>", "ask @U0NOBODY"),
        ("ask <@U0NOBODY|nobody>", "ask @nobody"),
        ("in <#C0GENERAL|general>", "in #general"),
        ("<!subteam^S0ALL|@all-staff> and <!subteam^S0ALL>", "@all-staff and @S0ALL"),
        ("<!here> <!channel> <!everyone>", "@here @channel @everyone"),
        ("<!date^1392734382^{date_short}|Feb 18, 2014>", "Feb 18, 2014"),
    ],
)
def test_slack_wire_text_decodes_to_what_the_person_saw(wire: str, plain: str) -> None:
    assert to_plain(wire, {"U0DANA": "Dana"}) == plain


@pytest.mark.parametrize(
    "typed",
    ["tom & jerry", "a < b > c", "&amp; &lt; literally", "x &&& y <<>>", "*bold* `a<b` • item"],
)
def test_typed_text_survives_slack_escaping_and_back(typed: str) -> None:
    # Slack escapes what people type; decoding gives back what they typed, and escaping that
    # once more is exactly what Slack itself would send
    assert to_plain(escape(typed)) == typed
    assert render(Outbound(channel=DM, text=typed))["text"] == escape(typed)


def test_mentioned_people_are_found_once_each() -> None:
    assert mentioned_users("<@U1> <@U2|b> <@U1> <#C1|x> <!subteam^S1>") == ["U1", "U2"]


def test_agents_mrkdwn_is_kept_while_control_characters_are_escaped_once() -> None:
    text = "*Steps*\n• open `Settings > Account`\n• choose _Reset_ & wait"
    section = render(Outbound(channel=DM, text=text))["blocks"][0]["text"]
    assert section == {
        "type": "mrkdwn",
        "text": "*Steps*\n• open `Settings &gt; Account`\n• choose _Reset_ &amp; wait",
    }


def test_pieces_fit_a_section_once_escaped_and_never_cut_an_entity() -> None:
    text = "ab& " * 2000  # 8,000 characters, 10,000 once escaped
    pieces = split_for_blocks(text, SECTION_MAX_CHARS)
    assert "".join(pieces) == text
    assert all(len(escape(p)) <= SECTION_MAX_CHARS for p in pieces)
    sections = [b["text"]["text"] for b in render(Outbound(channel=DM, text=text))["blocks"]]
    assert all(len(s) <= SECTION_MAX_CHARS for s in sections)
    assert to_plain("".join(sections)) == text  # no "&am" + "p;" halves


def test_a_text_past_one_message_becomes_several_with_the_buttons_on_the_last() -> None:
    text = "word " * 32_000  # 160,000 characters: more than 50 sections
    outbound = Outbound(channel=DM, text=text, buttons=(Button("Claim", "claim:1:"),))
    parts = render_parts(outbound)
    assert len(parts) == 5
    for part in parts:
        assert len(part["blocks"]) <= 50 and len(part["text"]) < 4000
        assert all(
            len(b["text"]["text"]) <= SECTION_MAX_CHARS
            for b in part["blocks"]
            if b["type"] == "section"
        )
    shown = "".join(b["text"]["text"] for p in parts for b in p["blocks"] if b["type"] == "section")
    assert shown == text
    assert [b["type"] for b in parts[-1]["blocks"]][-1] == "actions"
    assert all(b["type"] == "section" for p in parts[:-1] for b in p["blocks"])


def test_an_edit_is_one_message_cut_with_an_ellipsis() -> None:
    rendered = render(Outbound(channel=DM, text="word " * 32_000))
    assert len(rendered["blocks"]) == 12
    assert rendered["blocks"][-1]["text"]["text"].endswith("…")


def test_hints_name_the_slack_command_on_slack_and_the_slash_command_elsewhere() -> None:
    on_slack = render_hints(replies.HELP, "slack")
    assert "/helpdesk status (your cases)" in on_slack and "/helpdesk human" in on_slack
    assert " /status" not in on_slack
    assert "Commands: /status (your cases)" in render_hints(replies.HELP, "telegram")
    post = replies.escalation_post(3, "Ada", "slack", "normal", "s", "w", "", "unclaimed")
    assert "Commands: /helpdesk claim 3 · /helpdesk reply 3 <text>" in render_hints(post, "slack")
    assert "Commands: claim 3 · reply 3 <text>" in render_hints(post, "telegram")
    assert "\u2060" not in render_hints(replies.CASES_USAGE, "fake")
