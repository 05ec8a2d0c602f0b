"""Slack end to end in Socket Mode: the real slack-bolt app and slack_sdk's Socket Mode client
talk to the local stand-in (Web API + websocket); the whole help desk runs behind them on
SQLite and PostgreSQL. What is asserted is what customers and agents see in Slack.

The stand-in cannot prove real scopes, real rate-limit budgets or Block Kit rendering.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import FrozenClock
from bot.dialogs import replies
from bot.metrics import REGISTRY
from bot.storage.models import Case, OutboxMessage
from tests.support.slack_api import Call, SlackStandIn
from tests.support.slack_desk import (
    AGENTS,
    CUSTOMER_DM,
    SlackDesk,
    build_slack_desk,
    running_slack_desk,
)


def posted(call: Call) -> dict[str, Any]:
    """What the bot posted, with the message's ts (to click its buttons or find its thread)."""
    return {**call.args, "ts": call.response["ts"]}


def labels(message: dict[str, Any]) -> list[str]:
    return [
        element["text"]["text"]
        for block in message.get("blocks") or ()
        if block["type"] == "actions"
        for element in block["elements"]
    ]


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    stand_in = SlackStandIn()
    stand_in.users.update({"U0ADA": "Ada", "U0DANA": "Dana", "U0EVE": "Eve"})
    await stand_in.start()
    yield stand_in
    await stand_in.close()


@pytest.fixture
async def d(
    migrated_url: str, clock: FrozenClock, tmp_path: Path, slack: SlackStandIn
) -> AsyncIterator[SlackDesk]:
    async with running_slack_desk(migrated_url, clock, tmp_path, slack) as desk:
        yield desk


async def escalate(d: SlackDesk) -> dict[str, Any]:
    """A customer asks, is shown the answer card, clicks "Talk to a person"; returns the
    escalation post in the agent channel."""
    await d.slack.deliver("events_api", d.dm("I forgot my password"))
    await d.drain()
    (card,) = d.slack.posts(CUSTOMER_DM)
    await d.slack.deliver(
        "interactive", d.click(posted(card), "Talk to a person", user="U0ADA", channel=CUSTOMER_DM)
    )
    await d.drain()
    (post,) = d.slack.posts(AGENTS, thread_ts=None)
    return posted(post)


async def test_a_customer_dm_gets_an_answer_card_with_buttons(d: SlackDesk) -> None:
    ack = await d.slack.deliver("events_api", d.dm("I forgot my password"))
    assert ack["envelope_id"]
    await d.drain()
    (card,) = d.slack.posts(CUSTOMER_DM)
    assert "Reset your password" in card.args["text"]
    assert labels(card.args) == ["That helped", "Talk to a person", "Show the whole article"]
    section = card.args["blocks"][0]
    assert section["type"] == "section" and "Reset your password" in section["text"]["text"]
    buttons = card.args["blocks"][-1]["elements"]
    assert [b["value"] for b in buttons] == [
        "helped::reset-your-password",
        "human::",
        "article::reset-your-password",
    ]
    assert len({b["action_id"] for b in buttons}) == 3


async def test_the_whole_case_from_dm_to_claim_reply_modal_and_back(d: SlackDesk) -> None:
    post = await escalate(d)
    assert "New case #1" in post["text"] and "I forgot my password" in post["text"]
    assert {"Claim", "Release", "Reply", "Resolve"} <= set(labels(post))
    assert any("case #1" in c.args["text"] for c in d.slack.posts(CUSTOMER_DM))

    # Claim: the post is updated in place, the thread says who, the customer is told
    await d.slack.deliver("interactive", d.click(post, "Claim", user="U0DANA", channel=AGENTS))
    await d.drain()
    # (the customer's answer card lost its buttons when "Talk to a person" was pressed)
    (update,) = [u for u in d.slack.calls_to("chat.update") if u["channel"] == AGENTS]
    assert update["ts"] == post["ts"]
    assert "claimed by Dana" in update["text"]
    assert [c.args["text"] for c in d.slack.posts(AGENTS, thread_ts=post["ts"])] == [
        "#1 claimed by Dana."
    ]
    assert d.slack.posts(CUSTOMER_DM)[-1].args["text"] == replies.agent_joined("Dana", 1)

    # Reply: the button opens the modal right away, with the click's trigger id
    click = d.click({**update, "ts": post["ts"]}, "Reply", user="U0DANA", channel=AGENTS)
    await d.slack.deliver("interactive", click)
    (opened,) = d.slack.calls_to("views.open")
    assert opened["trigger_id"] == click["trigger_id"]
    assert opened["view"]["callback_id"] == "helpdesk_reply"

    # … and its submission reaches the customer's DM
    submission = d_view_submission(opened["view"], "Hi Ada, I've sent a new reset link.")
    ack = await d.slack.deliver("interactive", submission)
    assert "response_action" not in (ack.get("payload") or {})  # the modal just closes
    await d.drain()
    assert d.slack.posts(CUSTOMER_DM)[-1].args["text"] == (
        "Dana (Support): Hi Ada, I've sent a new reset link."
    )
    thread = d.slack.posts(AGENTS, thread_ts=post["ts"])
    assert thread[-1].args["text"] == replies.reply_delivered(1)


def d_view_submission(view: dict[str, Any], text: str) -> dict[str, Any]:
    from tests.support.slack_api import load_fixture

    body = load_fixture("view_submission")
    body["view"].update(private_metadata=view["private_metadata"])
    body["view"]["state"]["values"]["reply"]["text"]["value"] = text
    return body


async def test_thread_messages_stay_internal_and_at_bot_reply_reaches_the_customer(
    d: SlackDesk,
) -> None:
    post = await escalate(d)
    await d.slack.deliver("interactive", d.click(post, "Claim", user="U0DANA", channel=AGENTS))
    await d.drain()
    seen_by_customer = len(d.slack.posts(CUSTOMER_DM))

    await d.slack.deliver("events_api", d.in_thread("the reset mail bounced", post["ts"]))
    await d.drain()
    assert len(d.slack.posts(CUSTOMER_DM)) == seen_by_customer  # a note never leaks
    assert d.slack.posts(AGENTS, thread_ts=post["ts"])[-1].args["text"] == replies.note_saved(1)

    mention = d.mention("reply Try the link again, please.", channel=AGENTS, user="U0DANA")
    mention["event"]["thread_ts"] = post["ts"]
    await d.slack.deliver("events_api", mention)
    await d.drain()
    assert d.slack.posts(CUSTOMER_DM)[-1].args["text"] == (
        "Dana (Support): Try the link again, please."
    )


async def test_a_redelivered_event_is_answered_once(d: SlackDesk) -> None:
    event = d.dm("I forgot my password")
    await d.slack.deliver("events_api", event)
    await d.slack.deliver("events_api", event, retry_attempt=1)
    await d.drain()
    assert len(d.slack.posts(CUSTOMER_DM)) == 1


async def test_a_dropped_websocket_is_reconnected_and_counted_once(d: SlackDesk) -> None:
    """Slack closes the websocket: the app opens a new one, the customer's next message is
    answered, and the metrics show one reconnect (the first connection is not one)."""

    def reconnects() -> float:
        found = REGISTRY.get_sample_value(
            "helpdesk_adapter_reconnects_total", {"platform": "slack"}
        )
        return found or 0.0

    before = reconnects()
    await d.slack.drop()
    # the envelope goes down the new websocket, after its hello: acked once both are handled
    await d.slack.deliver("events_api", d.dm("I forgot my password"))
    await d.drain()
    assert len(d.slack.calls_to("apps.connections.open")) == 2
    assert "Reset your password" in d.slack.posts(CUSTOMER_DM)[-1].args["text"]
    assert reconnects() == before + 1


async def test_bots_edits_and_our_own_posts_are_ignored(d: SlackDesk) -> None:
    from tests.support.slack_api import load_fixture

    from_bot = d.dm("I forgot my password")
    from_bot["event"]["bot_id"] = "B0OTHER"
    await d.slack.deliver("events_api", from_bot)
    await d.slack.deliver("events_api", load_fixture("message_changed"))
    ours = d.dm("I forgot my password", user="U0BOT")
    ours["event"]["bot_id"] = "B0BOT"
    await d.slack.deliver("events_api", ours)
    await d.drain()
    assert d.slack.posts(CUSTOMER_DM) == []


async def test_relayed_customer_text_cannot_mention_anyone_in_the_agent_channel(
    d: SlackDesk,
) -> None:
    await escalate(d)
    # In Slack's wire form: real pings of the channel, a person and a group, a link, and the
    # characters "<!channel>" typed as text (which Slack sends escaped)
    nasty = (
        "help <!channel> <!here> <!everyone> <@U0DANA> <!subteam^S0ALL|@all-staff> "
        "<https://evil.test|login> and &lt;!channel&gt;"
    )
    await d.slack.deliver("events_api", d.dm(nasty))
    await d.drain()
    relayed = d.slack.posts(AGENTS)[-1].args
    shown = relayed["text"] + "".join(b["text"]["text"] for b in relayed["blocks"])
    assert "help @\u200bchannel @\u200bhere @\u200beveryone @\u200bDana" in shown
    assert "login (https://evil.test)" in shown
    for dangerous in ("<!channel>", "<!here>", "<!everyone>", "<@U0DANA>", "<!subteam", "<http"):
        assert dangerous not in shown
    assert "&lt;\u200b!channel&gt;" in shown  # the typed text survives, escaped once


async def test_a_429_is_retried_after_retry_after(d: SlackDesk, clock: FrozenClock) -> None:
    d.slack.rate_limit("chat.postMessage", retry_after=7)
    await d.slack.deliver("events_api", d.dm("I forgot my password"))
    assert await d.drain() == 0
    assert d.slack.posts(CUSTOMER_DM) == []
    clock.advance(seconds=6)
    assert await d.drain() == 0
    clock.advance(seconds=1)
    assert await d.drain() == 1
    (card,) = d.slack.posts(CUSTOMER_DM)
    assert "Reset your password" in card.args["text"]


async def test_a_missing_channel_is_parked_not_retried(d: SlackDesk, clock: FrozenClock) -> None:
    d.slack.fail("chat.postMessage", "channel_not_found")
    await d.slack.deliver("events_api", d.dm("I forgot my password"))
    await d.drain()
    clock.advance(minutes=10)
    await d.drain()
    assert len(d.slack.calls_to("chat.postMessage")) == 1
    async with d.helpdesk.sessions() as s:
        row = (await s.scalars(select(OutboxMessage))).one()
    assert row.status == "parked" and "channel_not_found" in (row.last_error or "")


async def test_helpdesk_slash_command_and_user_group_agents(
    migrated_url: str, clock: FrozenClock, tmp_path: Path, slack: SlackStandIn
) -> None:
    from tests.support.slack_desk import slack_desk

    slack.usergroups["S0AGENTS"] = ["U0EVE"]
    d = await build_slack_desk(
        migrated_url,
        clock,
        tmp_path,
        slack,
        desk=slack_desk(agents=("group:S0AGENTS",)),
        role_groups=("S0AGENTS",),
    )
    try:
        post = await escalate(d)
        public = len(d.slack.posts(AGENTS))
        cases = d.command("cases", user="U0EVE", channel=AGENTS)
        ack = await d.slack.deliver("slash_commands", cases)
        assert ack["envelope_id"]
        await d.drain()
        assert "#1" in d.slack.private_posts("U0EVE")[-1].args["text"]  # only Eve sees it

        refused = d.command("claim 1", user="U0DANA", channel=AGENTS)
        await d.slack.deliver("slash_commands", refused)
        await d.drain()
        assert d.slack.private_posts("U0DANA")[-1].args["text"] == replies.NOT_AN_AGENT
        assert len(d.slack.posts(AGENTS)) == public  # neither was posted for everyone

        await d.slack.deliver("interactive", d.click(post, "Claim", user="U0EVE", channel=AGENTS))
        await d.drain()
        async with d.helpdesk.sessions() as s:
            case = await s.get_one(Case, 1)
        assert (case.status, case.assignee_name) == ("open", "Eve")
        assert len(slack.calls_to("usergroups.users.list")) == 1  # cached
        assert len(slack.calls_to("users.info", user="U0EVE")) == 1
    finally:
        await d.channel.stop()
        await d.helpdesk.close()


async def test_in_a_shared_channel_the_thread_is_the_conversation(d: SlackDesk) -> None:
    mention = d.mention("I forgot my password", channel="C0GENERAL", user="U0ADA")
    thread = mention["event"]["ts"]
    await d.slack.deliver("events_api", mention)
    await d.drain()
    (card,) = d.slack.posts("C0GENERAL")
    assert card.args["thread_ts"] == thread and "Reset your password" in card.args["text"]

    follow_up = d.in_thread("I need a person please", thread, user="U0ADA")
    follow_up["event"]["channel"] = "C0GENERAL"
    elsewhere = d.in_thread("I need a person please", "1767600000.000001", user="U0ADA")
    elsewhere["event"]["channel"] = "C0GENERAL"
    top_level = d.in_thread("I need a person please", thread, user="U0ADA")
    top_level["event"]["channel"] = "C0GENERAL"
    del top_level["event"]["thread_ts"]
    for body in (elsewhere, top_level, follow_up):
        await d.slack.deliver("events_api", body)
    await d.drain()
    answers = d.slack.posts("C0GENERAL")
    assert len(answers) == 2 and answers[1].args["thread_ts"] == thread  # only the follow-up
    assert "case #1" in answers[1].args["text"]
    (post,) = d.slack.posts(AGENTS, thread_ts=None)
    assert "Ada" in post.args["text"]
