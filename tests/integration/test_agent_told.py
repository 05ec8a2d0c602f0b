"""An agent learns what became of their reply: confirmed once delivered, and told in the case
thread — with what they can do — when it could not be delivered or the customer can't be
reached. Agents work on another platform than the customer's (``other``), so a customer's
platform failing does not touch the agents' thread."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.clock import FrozenClock
from bot.dialogs import replies
from bot.errors import PermanentSendError
from bot.storage.models import OutboxMessage
from bot.storage.outbox import OutboxFilter, requeue_parked
from tests.integration.test_desk_flow import AGENTS, cross_platform_desk
from tests.support.desk import Transcript, build_transcript

REPLY = "reply 1 Your refund went out today."
SAID = "Dana (Support): Your refund went out today."


@pytest.fixture
async def t(migrated_url: str, clock: FrozenClock, tmp_path: Path) -> AsyncIterator[Transcript]:
    transcript = await build_transcript(
        migrated_url, clock, tmp_path, desk=cross_platform_desk(), platforms=("fake", "other")
    )
    await transcript.say("I forgot my password")
    await transcript.click("Talk to a person")
    await transcript.agent("claim 1", channel=AGENTS)
    transcript.new_for(transcript.customer)
    transcript.agents_saw(AGENTS)
    yield transcript
    await transcript.helpdesk.close()


async def test_an_agent_is_told_their_reply_was_queued_then_that_it_was_delivered(
    t: Transcript,
) -> None:
    seen = await t.agent(REPLY, channel=AGENTS)
    assert seen == [replies.reply_queued(1), replies.reply_delivered(1)]
    assert t.new_for(t.customer) == [SAID]
    assert all("reply sent" not in line for line in seen)


async def test_an_agent_is_told_in_the_case_thread_when_the_customer_blocked_the_bot(
    t: Transcript,
) -> None:
    t.channels["fake"].failures.append(
        PermanentSendError("Forbidden: bot was blocked by the user", recipient_gone=True)
    )
    seen = await t.agent(REPLY, channel=AGENTS)
    assert seen == [replies.reply_queued(1), replies.customer_unreachable(1, SAID, "fake")]
    assert "they blocked the bot" in seen[-1] and "write to us" in seen[-1]
    assert t.new_for(t.customer) == []
    thread = t.sent_to(t.channels["other"].sent[-1].channel)[-1]
    assert thread.channel.thread is not None  # in the case thread, not the queue channel

    # the next message to them is not even tried, and the agent hears of that one too
    seen = await t.agent("resolve 1", channel=AGENTS)
    assert replies.customer_unreachable(1, replies.case_resolved(1), "fake") in seen


async def test_an_agent_is_told_when_a_reply_fails_for_good_and_a_retry_delivers_it(
    t: Transcript, clock: FrozenClock
) -> None:
    t.channels["fake"].failures.append(PermanentSendError("400 Bad Request: chat not found"))
    seen = await t.agent(REPLY, channel=AGENTS)
    failed = replies.customer_message_failed(1, SAID, "fake:dm-ada")
    assert seen == [replies.reply_queued(1), failed]
    assert "helpdesk outbox retry --conversation fake:dm-ada" in failed
    assert t.new_for(t.customer) == []

    async with t.helpdesk.sessions.begin() as s:  # what `helpdesk outbox retry` does
        assert await requeue_parked(s, OutboxFilter(conversation="fake:dm-ada"), clock.now()) == 1
    await t.helpdesk.sender.drain()
    assert t.new_for(t.customer) == [SAID]
    assert t.agents_saw(AGENTS) == [replies.reply_delivered(1)]
    async with t.helpdesk.sessions() as s:
        statuses = set(await s.scalars(select(OutboxMessage.status)))
    assert statuses == {"sent"}
