"""The agents' desk end to end: a customer on one platform, agents on another, through the
engine, the outbox and fake channels, on SQLite and PostgreSQL. What is asserted is what the
customer and the agents see, and what the case records."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.clock import FrozenClock
from bot.config import DeskConfig, QueueConfig, RoleMembers, Roles
from bot.dialogs import replies
from bot.messages import ChannelRef, InboundKind
from bot.storage.models import Case, CaseEvent
from tests.support.desk import Transcript, build_transcript

AGENTS = "other:agents"


def cross_platform_desk() -> DeskConfig:
    return DeskConfig(
        roles=Roles(
            agents=RoleMembers(other=["dana", "eve"]),
            managers=RoleMembers(other=["mia"]),
            admins=RoleMembers(other=["dana"]),
        ),
        queues=[
            QueueConfig(name="default", channel=AGENTS),
            QueueConfig(name="billing", channel="other:billing", intents=["billing"]),
        ],
        answer_threshold=0.5,
    )


@pytest.fixture
async def t(migrated_url: str, clock: FrozenClock, tmp_path: Path) -> AsyncIterator[Transcript]:
    transcript = await build_transcript(
        migrated_url, clock, tmp_path, desk=cross_platform_desk(), platforms=("fake", "other")
    )
    yield transcript
    await transcript.helpdesk.close()


async def case_row(t: Transcript, number: int = 1) -> Case:
    async with t.helpdesk.sessions() as s:
        return await s.get_one(Case, number)


async def event_kinds(t: Transcript, number: int = 1) -> list[str]:
    async with t.helpdesk.sessions() as s:
        rows = await s.scalars(
            select(CaseEvent.kind).where(CaseEvent.case_id == number).order_by(CaseEvent.id)
        )
        return list(rows)


async def test_the_whole_loop_across_platforms(t: Transcript, clock: FrozenClock) -> None:
    await t.say("I forgot my password")
    (opened,) = await t.click("Talk to a person")
    assert "case #1" in opened and "You're next in the queue." in opened
    (post,) = t.agents_saw(AGENTS)
    assert "New case #1 — I forgot my password" in post
    assert "Customer: Ada (fake) · Priority: normal · Queue: default" in post
    assert "Bot suggested: reset-your-password" in post
    (outbound,) = t.sent_to(ChannelRef.parse(AGENTS))
    assert [b.label for b in outbound.buttons] == [
        "Claim",
        "Release",
        "Reply",
        "Transfer",
        "Resolve",
    ]
    assert t.channels["fake"].texts("fake:agents") == []  # nothing on the customer's platform

    claimed = await t.agent("claim 1", channel=AGENTS)
    assert "#1 claimed by Dana." in claimed
    assert any("Status: open, claimed by Dana" in line for line in claimed)  # the post, edited
    assert t.new_for(t.customer) == [replies.agent_joined("Dana", 1)]

    await t.agent("reply 1 Hi Ada, I've sent a new reset link.", channel=AGENTS)
    assert t.new_for(t.customer) == ["Dana (Support): Hi Ada, I've sent a new reset link."]

    thread = await t.thread_of(1)
    assert await t.agent(
        "the link service was slow today", channel=thread, kind=InboundKind.MESSAGE
    )
    assert t.new_for(t.customer) == []  # thread chatter is an internal note
    assert await t.say("got it, trying now") == []
    assert "#1 Ada: got it, trying now" in t.agents_saw(AGENTS)

    await t.agent("resolve", channel=thread)
    (resolved,) = t.sent_to(t.customer)[-1:]
    assert resolved.text == replies.case_resolved(1)
    assert [b.label for b in resolved.buttons][:1] == ["1 ☹"]
    t.new_for(t.customer)
    assert await t.click("4") == [replies.RATING_THANKS]
    assert await t.say("quick and kind, thank you") == [replies.COMMENT_THANKS]
    seen = t.agents_saw(AGENTS)
    assert "#1 rated 4/5 by the customer." in seen
    assert "#1 customer's comment on their rating: quick and kind, thank you" in seen

    case = await case_row(t)
    assert (case.status, case.csat, case.csat_comment) == (
        "resolved",
        4,
        "quick and kind, thank you",
    )
    assert case.first_response_at is not None and case.resolved_at is not None
    assert await event_kinds(t) == [
        "customer_message",
        "bot_message",  # what the bot suggested
        "status_change",  # opened
        "claim",
        "agent_message",
        "note",
        "customer_message",
        "status_change",  # resolved
        "rating",
        "rating",  # the comment
    ]

    clock.advance(hours=2)
    *_, offer = await t.say("the new link doesn't work either")
    assert offer == replies.offer_reopen(1)  # the customer chooses; never reopened silently
    assert (await case_row(t)).status == "resolved"
    (reopened,) = await t.click("Reopen case #1")
    assert reopened == replies.case_reopened_for_customer(1, "Dana")
    seen = t.agents_saw(AGENTS)
    assert "#1 reopened by Ada (1×): the new link doesn't work either" in seen
    assert any("Status: open, claimed by Dana · reopened 1×" in line for line in seen)
    case = await case_row(t)
    assert (case.status, case.reopen_count, case.assignee_name) == ("open", 1, "Dana")
    assert case.reopened_at == clock.now()
    assert (await event_kinds(t))[-2:] == ["reopen", "customer_message"]
    assert await t.say("still nothing") == []  # back with Dana: relayed, bot quiet
    assert "#1 Ada: still nothing" in t.agents_saw(AGENTS)


async def test_a_message_after_the_reopen_window_starts_afresh(
    t: Transcript, clock: FrozenClock
) -> None:
    await t.say("I need a person about my delivery")
    await t.agent("claim 1", channel=AGENTS)
    await t.agent("resolve 1", channel=AGENTS)
    t.new_for(t.customer)
    clock.advance(hours=73)  # the window is 72 hours
    assert await t.say("the lamp broke again") == [replies.REPHRASE]
    case = await case_row(t)
    assert (case.status, case.reopen_count) == ("resolved", 0)


async def test_the_queue_position_is_told_when_a_case_opens(t: Transcript) -> None:
    await t.say("I need a person about my delivery")
    bob = ChannelRef("fake", "dm-bob")
    await t.say("I want a human", channel=bob, user_id="bob", user_name="Bob")
    (opened,) = await t.say("my lamp blinks red", channel=bob, user_id="bob", user_name="Bob")
    assert "You're number 2 in the queue." in opened
    await t.agent("claim 1", channel=AGENTS)
    carol = ChannelRef("fake", "dm-carol")
    await t.say("a person please", channel=carol, user_id="carol", user_name="Carol")
    (opened,) = await t.say("hub offline", channel=carol, user_id="carol", user_name="Carol")
    assert "You're number 2 in the queue." in opened  # case 1 is claimed: only Bob's is ahead


async def test_people_without_the_role_are_refused_and_groups_count(t: Transcript) -> None:
    await t.say("I need a person about my delivery")
    t.agents_saw(AGENTS)
    assert await t.agent("claim 1", channel=AGENTS, user="mal", name="Mal") == [
        replies.NOT_AN_AGENT
    ]
    assert (await case_row(t)).assignee is None
    assert await t.agent("cases", channel=AGENTS, user="fred", name="Fred", groups=("x",)) == [
        replies.NOT_AN_AGENT
    ]


async def test_agent_attachments_are_refused_clearly_and_the_text_still_goes(
    t: Transcript,
) -> None:
    await t.say("I need a person about my delivery")
    t.agents_saw(AGENTS)
    seen = await t.agent("reply 1 Here is the label", channel=AGENTS, attachments=("label.pdf",))
    assert replies.agent_attachment_refused(["label.pdf"]) in seen
    assert t.new_for(t.customer)[-1] == "Dana (Support): Here is the label"
    only_file = await t.agent("reply 1", channel=AGENTS, attachments=("photo.jpg",))
    assert only_file == [replies.agent_attachment_refused(["photo.jpg"])]
    assert t.new_for(t.customer) == []
