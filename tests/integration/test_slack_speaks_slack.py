"""Slack as Slack behaves: escaped wire text in and out, private answers, hints in Slack's own
command form, an acknowledgement that never waits on slow look-ups, chart uploads, and
refusals that only the person who tried sees. The real slack-bolt / slack_sdk run against the
strict local stand-in (``tests/support/slack_api.py``), the whole help desk behind them, on
SQLite and PostgreSQL.

The stand-in cannot prove how Slack renders mrkdwn, real ``response_url`` expiry times, or
scopes (``chat:write``, ``files:write``, ``commands``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from bot.adapters.slack import SlackChannel
from bot.adapters.slack_text import escape
from bot.clock import FrozenClock
from bot.dialogs import replies
from bot.messages import ChannelRef, Outbound
from bot.storage.models import CaseEvent, OutboxMessage
from tests.support.slack_api import ACK_TIMEOUT, Call, SlackStandIn
from tests.support.slack_desk import (
    AGENTS,
    CUSTOMER_DM,
    SlackDesk,
    build_slack_desk,
    running_slack_desk,
    wire,
)

# What Ada typed in Slack, and how Slack delivers it: "&", "<", ">" escaped, the link she
# pasted with a label, the person she mentioned as a user id.
TYPED = "tom & jerry <3 > see the docs (https://x.test/a?b=1&c=2) and ask @Dana"
ON_THE_WIRE = (
    "tom &amp; jerry &lt;3 &gt; see <https://x.test/a?b=1&amp;c=2|the docs> and ask <@U0DANA>"
)


def posted(call: Call) -> dict[str, Any]:
    return {**call.args, "ts": call.response["ts"]}


def shown(call: Call) -> str:
    """What people read: the sections of the message (its ``text`` is only the fallback)."""
    return "".join(b["text"]["text"] for b in call.args["blocks"] if b["type"] == "section")


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    stand_in = SlackStandIn()
    stand_in.users.update({"U0ADA": "Ada", "U0DANA": "Dana", "U0EVE": "Eve", "U0NIA": "Nia"})
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
    await d.slack.deliver("events_api", d.dm("I forgot my password"))
    await d.drain()
    (card,) = d.slack.posts(CUSTOMER_DM)
    await d.slack.deliver(
        "interactive", d.click(posted(card), "Talk to a person", user="U0ADA", channel=CUSTOMER_DM)
    )
    await d.drain()
    (post,) = d.slack.posts(AGENTS, thread_ts=None)
    return posted(post)


async def test_text_with_escapes_links_and_mentions_round_trips_exactly_as_written(
    d: SlackDesk,
) -> None:
    post = await escalate(d)
    await d.slack.deliver("events_api", d.dm(ON_THE_WIRE))
    await d.drain()

    # the agents read what Ada typed (the mention made harmless), escaped once
    relayed = d.slack.posts(AGENTS, thread_ts=post["ts"])[-1]
    assert shown(relayed) == escape(f"#1 Ada: {TYPED}".replace("@Dana", "@\u200bDana"))
    assert "&amp;amp;" not in shown(relayed) and "<@U0DANA>" not in shown(relayed)
    async with d.helpdesk.sessions() as s:
        bodies = list(await s.scalars(select(CaseEvent.body).where(CaseEvent.case_id == 1)))
    assert TYPED in bodies  # stored as plain text: what search and reports see

    # Dana answers with the same words in the thread; Ada reads exactly them
    answer = d.mention(f"reply {ON_THE_WIRE}", channel=AGENTS, user="U0DANA", thread=post["ts"])
    await d.slack.deliver("events_api", answer)
    await d.drain()
    to_ada = d.slack.posts(CUSTOMER_DM)[-1]
    assert shown(to_ada) == escape(f"Dana (Support): {TYPED}")
    assert to_ada.args["text"] == escape(f"Dana (Support): {TYPED}")


async def test_an_agents_slack_formatting_reaches_the_customer_as_formatting(d: SlackDesk) -> None:
    post = await escalate(d)
    await d.slack.deliver("interactive", d.click(post, "Claim", user="U0DANA", channel=AGENTS))
    await d.drain()
    formatted = wire("*Steps:*\n• open `Settings > Account`\n• press _Reset_")
    answer = d.mention(f"reply {formatted}", channel=AGENTS, user="U0DANA", thread=post["ts"])
    await d.slack.deliver("events_api", answer)
    await d.drain()
    assert shown(d.slack.posts(CUSTOMER_DM)[-1]) == (
        "Dana (Support): *Steps:*\n• open `Settings &gt; Account`\n• press _Reset_"
    )


async def test_slash_command_answers_are_private_even_where_the_bot_is_not_a_member(
    d: SlackDesk,
) -> None:
    await escalate(d)
    # #random: the bot is not in it, so a post there would fail with not_in_channel
    await d.slack.deliver("slash_commands", d.command("status", user="U0ADA", channel="C0RANDOM"))
    await d.drain()
    (answer,) = d.slack.private_posts("U0ADA")
    assert answer.method == "response_url" and answer.args["response_type"] == "ephemeral"
    assert "#1" in answer.args["text"]
    assert d.slack.posts("C0RANDOM") == []
    async with d.helpdesk.sessions() as s:
        parked = list(await s.scalars(select(OutboxMessage).where(OutboxMessage.status != "sent")))
    assert parked == []


async def test_a_spent_response_url_falls_back_to_ephemeral_then_to_a_dm(d: SlackDesk) -> None:
    await d.slack.deliver("slash_commands", d.command("help", user="U0ADA", channel=AGENTS))
    d.slack.expire_hooks()
    await d.drain()
    (ephemeral,) = d.slack.private_posts("U0ADA")
    assert ephemeral.method == "chat.postEphemeral" and ephemeral.args["channel"] == AGENTS

    await d.slack.deliver("slash_commands", d.command("help", user="U0NIA", channel="C0RANDOM"))
    d.slack.expire_hooks()
    await d.drain()
    assert len(d.slack.calls_to("conversations.open", users="U0NIA")) == 1
    (post,) = [c for c in d.slack.calls if c.method == "chat.postMessage" and c.args["channel"]]
    assert post.args["channel"] == "D00NIA" and "/helpdesk status" in post.args["text"]
    assert d.slack.posts("C0RANDOM") == []


async def test_every_hint_uses_the_helpdesk_command(d: SlackDesk) -> None:
    await d.slack.deliver("slash_commands", d.command("help", user="U0ADA", channel=CUSTOMER_DM))
    post = await escalate(d)
    (help_text,) = [c.args["text"] for c in d.slack.private_posts("U0ADA")]
    assert "/helpdesk status (your cases)" in help_text and "/helpdesk close" in help_text
    assert " /status" not in help_text and " /close" not in help_text
    assert "Commands: /helpdesk claim 1 · /helpdesk reply 1 &lt;text&gt;" in post["text"]

    wrong = d.command("cases sideways", user="U0DANA", channel=AGENTS)
    await d.slack.deliver("slash_commands", wrong)
    await d.drain()
    usage = d.slack.private_posts("U0DANA")[-1].args["text"]
    assert usage.startswith("Try '/helpdesk cases', '/helpdesk cases unclaimed'")


async def test_a_non_agents_claim_is_refused_privately(d: SlackDesk) -> None:
    post = await escalate(d)
    before = len(d.slack.posts(AGENTS))
    await d.slack.deliver("interactive", d.click(post, "Claim", user="U0EVE", channel=AGENTS))
    await d.drain()
    (refusal,) = d.slack.private_posts("U0EVE")
    assert refusal.args["text"] == replies.NOT_AN_AGENT
    assert len(d.slack.posts(AGENTS)) == before
    # the case post is not redrawn as claimed (the customer's answer losing its used buttons
    # is the dialog's own edit)
    assert d.slack.calls_to("chat.update", channel=AGENTS) == []


async def test_the_reply_form_is_not_opened_for_a_non_agent(d: SlackDesk) -> None:
    post = await escalate(d)
    await d.slack.deliver("interactive", d.click(post, "Reply", user="U0EVE", channel=AGENTS))
    await d.drain()
    assert d.slack.calls_to("views.open") == []
    assert [c.args["text"] for c in d.slack.private_posts("U0EVE")] == [replies.NOT_AN_AGENT]

    await d.slack.deliver("interactive", d.click(post, "Reply", user="U0DANA", channel=AGENTS))
    assert len(d.slack.calls_to("views.open")) == 1  # an agent's click still opens it


async def test_the_ack_does_not_wait_for_a_slow_user_lookup(
    migrated_url: str, clock: FrozenClock, tmp_path: Path, slack: SlackStandIn
) -> None:
    d = await build_slack_desk(migrated_url, clock, tmp_path, slack, in_background=True)
    try:
        lookups = slack.hold_lookups()
        ack = await slack.deliver("events_api", d.dm("I forgot my password", user="U0NIA"))
        assert ack["envelope_id"]  # acknowledged while users.info cannot have answered …
        await asyncio.wait_for(slack.lookup_waiting.wait(), ACK_TIMEOUT)
        assert slack.posts(CUSTOMER_DM) == []  # … and still looking up, to answer
        # a second message meanwhile is acknowledged too, and answered after the first
        second = d.dm("I need a person please", user="U0NIA")
        assert (await slack.deliver("events_api", second))["envelope_id"]
        lookups.set()
        await d.helpdesk.intake.wait_idle()
        await d.drain()
        texts = [c.args["text"] for c in d.slack.posts(CUSTOMER_DM)]
        assert "Reset your password" in texts[0] and "case #1" in texts[1]
        (card,) = slack.posts(AGENTS, thread_ts=None)
        assert "Nia" in card.args["text"]  # the name looked up when handled, not "U0NIA"
    finally:
        await d.channel.stop()
        await d.helpdesk.close()


async def test_a_sender_slack_cannot_look_up_just_now_is_answered_on_the_retry(
    migrated_url: str, clock: FrozenClock, tmp_path: Path, slack: SlackStandIn
) -> None:
    d = await build_slack_desk(migrated_url, clock, tmp_path, slack, in_background=True)
    try:
        slack.rate_limit("users.info", retry_after=1)
        ack = await slack.deliver("events_api", d.dm("I forgot my password", user="U0NIA"))
        assert ack["envelope_id"]
        await d.helpdesk.intake.wait_idle()
        await d.drain()
        assert slack.posts(CUSTOMER_DM) == []  # kept for later, not dropped

        clock.advance(seconds=2)  # the inbox's first retry falls due
        assert await d.helpdesk.intake.recover() == 1
        await d.drain()
        (answer,) = slack.posts(CUSTOMER_DM)
        assert "Reset your password" in answer.args["text"]
        assert len(slack.calls_to("users.info", user="U0NIA")) == 2  # asked again, answered
    finally:
        await d.channel.stop()
        await d.helpdesk.close()


async def test_a_chart_is_uploaded_into_the_channel_not_named_by_its_path(
    slack: SlackStandIn, tmp_path: Path
) -> None:
    slack.join("C0MANAGERS")
    chart = tmp_path / "digest-daily-2026-01-11.png"
    chart.write_bytes(b"\x89PNG\r\n\x1a\n" + b"chart" * 100)
    channel = SlackChannel(client=AsyncWebClient(token="xoxb-t", base_url=slack.api_url))
    text = "Daily digest — Sun 11 Jan 2026 (CET)\nCases: 3 opened & 2 resolved"
    await channel.send(
        Outbound(channel=ChannelRef("slack", "C0MANAGERS"), text=text, file_path=str(chart))
    )
    (asked,) = slack.calls_to("files.getUploadURLExternal")
    assert asked["filename"] == chart.name and int(asked["length"]) == len(chart.read_bytes())
    (completed,) = slack.calls_to("files.completeUploadExternal", channel_id="C0MANAGERS")
    assert completed["initial_comment"] == escape(text)
    assert slack.uploads[completed["files"][0]["id"]] == chart.read_bytes()
    assert slack.calls_to("chat.postMessage") == []  # no "Chart: /srv/…" line anywhere


async def test_the_scheduled_digest_arrives_in_slack_with_its_chart_uploaded(
    migrated_url: str, slack: SlackStandIn, tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    from bot.config import DeskConfig
    from bot.delivery import OutboxSender
    from bot.escalation.sla_clock import CaseSlaClock
    from bot.reports.scheduler import DeskScheduler
    from bot.storage.db import create_engine, session_factory
    from bot.storage.uow import UnitOfWork

    slack.join("C0MANAGERS", "U0MIA")
    desk = DeskConfig.model_validate(
        {"managers_channel": "slack:C0MANAGERS", "digests": {"daily": "09:00"}}
    )
    clock = FrozenClock(datetime(2026, 1, 12, 9, 0, tzinfo=UTC))
    engine = create_engine(migrated_url)
    try:
        sessions = session_factory(engine)
        scheduler = DeskScheduler(
            desk=desk,
            uow_factory=lambda: UnitOfWork(sessions, clock),
            clock=clock,
            owner="host-a",
            chart_dir=tmp_path / "digests",
            sla_clock=CaseSlaClock.of(desk),
        )
        digest = await scheduler.run_digest("day")
        assert digest is not None and digest.chart is not None
        channel = SlackChannel(client=AsyncWebClient(token="xoxb-t", base_url=slack.api_url))
        sender = OutboxSender(sessions=sessions, channels={"slack": channel}, clock=clock)
        assert await sender.drain() == 1
    finally:
        await engine.dispose()
    (completed,) = slack.calls_to("files.completeUploadExternal", channel_id="C0MANAGERS")
    assert completed["initial_comment"].startswith("Daily digest — Sun 11 Jan 2026")
    assert "Chart:" not in completed["initial_comment"] and str(tmp_path) not in str(slack.calls)
    assert slack.uploads[completed["files"][0]["id"]] == digest.chart.read_bytes()


async def test_the_stand_in_refuses_what_slack_refuses(slack: SlackStandIn) -> None:
    client = AsyncWebClient(token="xoxb-t", base_url=slack.api_url)
    slack.join("C0IN", "U0ADA")
    refusals = {
        "not_in_channel": client.chat_postMessage(channel="C0OUT", text="hi"),
        "invalid_blocks": client.chat_postMessage(
            channel="C0IN",
            text="x",
            blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}],
        ),
        "msg_too_long": client.chat_postMessage(channel="C0IN", text="x" * 40_001),
        "user_not_in_channel": client.chat_postEphemeral(channel="C0IN", user="U0EVE", text="x"),
        "message_not_found": client.chat_update(channel="C0IN", ts="1.2", text="x"),
    }
    for error, call in refusals.items():
        with pytest.raises(SlackApiError) as raised:
            await call
        assert raised.value.response["error"] == error
