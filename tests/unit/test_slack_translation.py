"""The Slack adapter's pure parts: documented payloads (tests/fixtures/slack) replayed through
the translation to Inbounds, Block Kit rendering with mrkdwn escaping, error classification."""

from __future__ import annotations

import json
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.slack_response import SlackResponse

from bot.adapters.slack_blocks import render, reply_modal
from bot.adapters.slack_errors import classify
from bot.adapters.slack_inbound import (
    from_action,
    from_command,
    from_mention,
    from_message,
    from_view,
    in_shared_thread,
    strip_mention,
)
from bot.errors import PermanentSendError, RetryableSendError
from bot.messages import Button, ChannelRef, Inbound, InboundKind, Outbound
from tests.support.slack_api import load_fixture

AGENTS = {"C0AGENTS"}
BOT = "U0BOT"


def message(body: dict[str, Any]) -> Inbound | None:
    return from_message(body, bot_user_id=BOT, agent_channels=AGENTS)


def test_a_dm_is_a_direct_message_keyed_by_the_event_id() -> None:
    inbound = message(load_fixture("message_im"))
    assert inbound is not None
    assert inbound.kind == InboundKind.MESSAGE and inbound.is_direct
    assert inbound.channel == ChannelRef("slack", "D0CUSTOMER")
    assert (inbound.event_id, inbound.user_id) == ("Ev0DM00001", "U0ADA")
    assert inbound.text.startswith("I forgot my password &amp;")  # decoded by the adapter
    assert inbound.reply_token == ""


def test_edits_bots_and_joins_are_not_people_writing() -> None:
    assert message(load_fixture("message_changed")) is None
    from_bot = load_fixture("message_im")
    from_bot["event"]["bot_id"] = "B0OTHER"
    assert message(from_bot) is None
    join = load_fixture("message_channel_thread")
    join["event"]["subtype"] = "channel_join"
    assert message(join) is None


def test_a_file_share_carries_the_file_names() -> None:
    body = load_fixture("message_im")
    body["event"].update(subtype="file_share", files=[{"name": "screenshot.png"}])
    inbound = message(body)
    assert inbound is not None and inbound.attachments == ("screenshot.png",)


def test_agent_thread_messages_carry_the_thread_of_the_case() -> None:
    inbound = message(load_fixture("message_channel_thread"))
    assert inbound is not None and inbound.kind == InboundKind.MESSAGE
    assert inbound.channel == ChannelRef("slack", "C0AGENTS", "1767603800.000400")
    assert not inbound.is_direct


def test_customer_channel_threads_are_candidates_the_adapter_must_check() -> None:
    body = load_fixture("message_channel_thread")
    body["event"]["channel"] = "C0GENERAL"
    inbound = message(body)
    assert inbound is not None and in_shared_thread(inbound, AGENTS)
    assert inbound.channel == ChannelRef("slack", "C0GENERAL", "1767603800.000400")
    agents_line = message(load_fixture("message_channel_thread"))
    assert agents_line is not None and not in_shared_thread(agents_line, AGENTS)
    del body["event"]["thread_ts"]
    assert message(body) is None  # top-level chatter in a shared channel


def test_a_message_that_mentions_the_bot_is_left_to_the_app_mention_event() -> None:
    body = load_fixture("message_channel_thread")
    body["event"]["text"] = "<@U0BOT> reply hello"
    assert message(body) is None


def test_a_mention_in_a_customer_channel_starts_a_thread_conversation() -> None:
    inbound = from_mention(load_fixture("app_mention"), bot_user_id=BOT, agent_channels=AGENTS)
    assert inbound is not None and inbound.kind == InboundKind.MESSAGE
    assert inbound.text == "I forgot my password"
    assert inbound.channel == ChannelRef("slack", "C0GENERAL", "1767603700.000300")


def test_a_mention_in_the_agent_channel_is_a_command() -> None:
    body = load_fixture("app_mention")
    body["event"].update(channel="C0AGENTS", text="<@U0BOT> reply Try again", thread_ts="17.1")
    inbound = from_mention(body, bot_user_id=BOT, agent_channels=AGENTS)
    assert inbound is not None and inbound.kind == InboundKind.COMMAND
    assert inbound.text == "reply Try again"
    assert inbound.channel == ChannelRef("slack", "C0AGENTS", "17.1")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<@U0BOT> reply hi", "reply hi"),
        ("<@U0BOT|helpdesk>: claim 3", "claim 3"),
        ("<@U0OTHER> hi", "<@U0OTHER> hi"),
        ("  plain  ", "plain"),
    ],
)
def test_strip_mention(text: str, expected: str) -> None:
    assert strip_mention(text, BOT) == expected


def test_the_slash_command_is_a_command_with_the_verb_and_arguments() -> None:
    inbound = from_command(load_fixture("slash_command"))
    assert inbound.kind == InboundKind.COMMAND and inbound.text == "cases"
    assert inbound.channel == ChannelRef("slack", "C0AGENTS") and not inbound.is_direct
    dm = load_fixture("slash_command")
    dm.update(channel_id="D0CUSTOMER", text=" status ")
    direct = from_command(dm)
    assert direct.is_direct and direct.text == "status"


def test_a_button_click_is_an_action_in_the_case_thread() -> None:
    body = load_fixture("block_actions")
    inbound = from_action(body, body["actions"][0], AGENTS)
    assert inbound is not None and inbound.kind == InboundKind.ACTION
    assert (inbound.action, inbound.value, inbound.user_id) == ("claim", "1:", "U0DANA")
    assert inbound.channel == ChannelRef("slack", "C0AGENTS", "1767603800.000400")
    foreign = {**body["actions"][0], "action_id": "someone_elses_button"}
    assert from_action(body, foreign, AGENTS) is None


def test_the_reply_modal_round_trips_into_a_form() -> None:
    view = reply_modal("reply:7:", "C0AGENTS", "1767603800.000400")
    body = load_fixture("view_submission")
    body["view"]["private_metadata"] = view["private_metadata"]
    inbound = from_view(body)
    assert inbound is not None and inbound.kind == InboundKind.FORM
    assert dict(inbound.fields) == {"case": "7", "text": "Hi Ada, I've sent a new reset link."}
    assert inbound.channel == ChannelRef("slack", "C0AGENTS", "1767603800.000400")
    body["view"]["private_metadata"] = "not json"
    assert from_view(body) is None


def test_rendering_escapes_mrkdwn_so_no_mention_or_link_can_form() -> None:
    text = "Tom & Jerry <!channel> <@U0DANA> <!subteam^S1> <https://evil.test|login>"
    rendered = render(Outbound(channel=ChannelRef("slack", "D1"), text=text))
    shown = json.dumps(rendered)
    for dangerous in ("<!channel>", "<@U0DANA>", "<!subteam", "<https"):
        assert dangerous not in shown
    assert rendered["text"].startswith("Tom &amp; Jerry &lt;!channel&gt;")
    assert rendered["blocks"][0]["text"] == {"type": "mrkdwn", "text": rendered["text"]}


def test_buttons_carry_the_payload_and_long_text_is_split_into_sections() -> None:
    outbound = Outbound(
        channel=ChannelRef("slack", "C0AGENTS"),
        text="x" * 4500,
        buttons=(
            Button("Claim", "claim:1:", style="primary"),
            Button("Reply", "reply:1:", opens_form=True),
        ),
    )
    rendered = render(outbound)
    sections = [b for b in rendered["blocks"] if b["type"] == "section"]
    assert [len(s["text"]["text"]) for s in sections] == [3000, 1500]
    claim, reply = rendered["blocks"][-1]["elements"]
    assert (claim["value"], claim["style"]) == ("claim:1:", "primary")
    assert reply["value"] == "reply:1:" and "style" not in reply
    assert claim["action_id"] != reply["action_id"]
    assert len(rendered["text"]) < 4000  # the fallback stays within Slack's limit
    assert render(Outbound(channel=ChannelRef("slack", "D1"), text="hi"))["blocks"] == [
        {"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}
    ]


def _error(status: int, body: dict[str, object], headers: dict[str, str]) -> SlackApiError:
    response = SlackResponse(
        client=None,
        http_verb="POST",
        api_url="http://127.0.0.1/api/chat.postMessage",
        req_args={},
        data=body,
        headers=headers,
        status_code=status,
    )
    return SlackApiError("failed", response)


def test_errors_are_classified_at_the_edge() -> None:
    limited = classify(
        _error(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "7"}), "m"
    )
    assert isinstance(limited, RetryableSendError) and limited.retry_after == 7.0
    gone = classify(_error(200, {"ok": False, "error": "channel_not_found"}, {}), "m")
    assert isinstance(gone, PermanentSendError) and "channel_not_found" in str(gone)
    down = classify(_error(503, {"ok": False, "error": "service_unavailable"}, {}), "m")
    assert isinstance(down, RetryableSendError) and down.retry_after is None
