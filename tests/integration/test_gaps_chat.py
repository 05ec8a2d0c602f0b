"""Knowledge gaps and intent-example suggestions from chat, through the real encoder, on SQLite
and PostgreSQL: customers ask what the desk does not cover, an admin types ``gaps`` and sees
the questions grouped by meaning and ranked; a missed message an agent handled is proposed as
an intent example and settled with one action. Everyone else is refused, privately, and the
refusal logged."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import FrozenClock
from bot.config import DeskConfig, QueueConfig, RoleMembers, Roles
from bot.dialogs import replies
from bot.intents.catalog import examples_of
from bot.messages import ChannelRef, InboundKind
from bot.storage.models import Article, AuditEntry, MissedQuestion
from tests.support.desk import Transcript, as_sent, build_transcript

AGENTS = "fake:agents"
RECYCLING = [
    "how do I recycle old bulbs",
    "can I send you my dead bulbs for recycling",
    "do you take back old electronics for recycling",
]
GIFT_CARDS = ["do you sell gift cards", "can I buy a gift voucher for my brother"]
# dana is an agent; carl a customer who found his way into the agents' channel; adam an admin
PEOPLE = {"customer": ("carl", "Carl"), "agent": ("dana", "Dana")}
VERBS = ["gaps", "gaps draft 1", "gaps examples 1 returns", "suggestions", "accept 1 x", "reject 1"]


def gaps_desk() -> DeskConfig:
    return DeskConfig(
        roles=Roles(
            agents=RoleMembers(fake=["dana", "eve"]),
            admins=RoleMembers(fake=["adam"]),
        ),
        queues=[QueueConfig(name="default", channel=AGENTS)],
        answer_threshold=0.5,
    )


@pytest.fixture
async def t(
    migrated_url: str, clock: FrozenClock, tmp_path: Path, embedder: Any
) -> AsyncIterator[Transcript]:
    transcript = await build_transcript(
        migrated_url, clock, tmp_path, desk=gaps_desk(), encoder=embedder
    )
    yield transcript
    await transcript.helpdesk.close()


async def customers_ask(t: Transcript) -> None:
    """Five customers ask what no article covers; the first recycling one asks for a person."""
    for n, question in enumerate(RECYCLING + GIFT_CARDS):
        who = {"channel": ChannelRef("fake", f"dm-{n}"), "user_id": f"c{n}", "user_name": f"C{n}"}
        assert await t.say(question, **who) == [replies.REPHRASE]
        if n == 0:
            await t.say("/human", **who)  # case #1, in the customer's words
    clock = t.helpdesk.clock
    assert isinstance(clock, FrozenClock)
    clock.advance(minutes=5)
    t.agents_saw()


async def admin(t: Transcript, text: str) -> list[str]:
    return await t.agent(text, user="adam", name="Adam")


async def test_an_admin_sees_the_gaps_grouped_by_meaning_and_ranked(t: Transcript) -> None:
    await customers_ask(t)
    t.agents_saw()

    (listing,) = await admin(t, "gaps")

    lines = listing.splitlines()
    assert lines[0] == "Knowledge gaps, last 30 days (count, then the 30 days before):"
    first, second = lines[1], lines[2]
    assert first.startswith("1. 3× (new)") and "3 not answered (#1)" in first
    assert all(f"“{q}”" in first for q in RECYCLING)
    assert second.startswith("2. 2× (new)") and "2 not answered" in second
    assert all(f"“{q}”" in second for q in GIFT_CARDS)
    assert "gift" not in first and "recycl" not in second
    assert as_sent(replies.gaps_listing(30, [first, second]), "fake") == listing


async def test_a_gap_becomes_a_draft_article_in_one_step(t: Transcript) -> None:
    await customers_ask(t)
    assert await admin(t, "gaps draft 1") == [as_sent(replies.GAPS_SHOW_FIRST)]
    await admin(t, "gaps")
    assert await admin(t, "gaps draft 3") == [replies.no_gap(3, 2)]

    (drafted,) = await admin(t, "gaps draft 1")

    async with t.helpdesk.sessions() as s:
        (article,) = await s.scalars(select(Article))
        actions = [a.action for a in await s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert drafted == as_sent(replies.gap_drafted(1, article.slug, 3))
    assert (article.status, article.title) == ("draft", "How do I recycle old bulbs")
    assert article.questions == RECYCLING  # the customers' words, as example questions
    assert "gap.draft" in actions


async def test_a_gap_teaches_an_intent_its_questions_in_one_step(t: Transcript) -> None:
    await customers_ask(t)
    await admin(t, "intent create gift_cards")
    await admin(t, "gaps")

    assert await admin(t, "gaps examples 2 gift_cards") == [
        as_sent(replies.gap_taught(2, "gift_cards", 2, 2))
    ]
    assert await admin(t, "gaps examples 2 gift_cards") == [  # once only
        as_sent(replies.gap_taught(2, "gift_cards", 0, 2))
    ]
    async with t.helpdesk.sessions() as s:
        examples = await examples_of(s, "gift_cards")
        actions = [a.action for a in await s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert sorted(examples) == sorted(GIFT_CARDS)
    assert actions.count("gap.examples") == 2
    (refusal,) = await admin(t, "gaps examples 1 no_such_intent")
    assert "no_such_intent" in refusal
    async with t.helpdesk.sessions() as s:
        assert await examples_of(s, "gift_cards") == examples  # nothing else changed


async def test_a_missed_message_an_agent_handled_is_proposed_and_settled_once(
    t: Transcript,
) -> None:
    await customers_ask(t)  # case #1 follows the first recycling question
    assert await admin(t, "suggestions") == [replies.SUGGESTIONS_NONE]  # nobody handled it yet
    await t.agent("claim 1")
    t.agents_saw()

    (proposal,) = await admin(t, "suggestions")
    assert proposal.startswith(f"Suggestion 1: “{RECYCLING[0]}” — handled by an agent in case #1")
    # no topic for the case, and its queue routes no single intent: the admin names it
    assert "(which intent? name one)" in proposal
    (offer,) = [o for o in t.sent_to(ChannelRef.parse(AGENTS)) if o.text == proposal]
    assert [b.label for b in offer.buttons] == [replies.REJECT_BUTTON]

    assert await admin(t, "accept 1") == [as_sent(replies.suggestion_needs_intent(1))]
    assert await admin(t, "accept 2 recycling") == [replies.no_suggestion(2)]
    verb, _, rest = offer.buttons[0].payload.partition(":")
    rejected = await t.agent(
        "", user="adam", name="Adam", kind=InboundKind.ACTION, action=verb, value=rest
    )
    assert rejected == [replies.suggestion_rejected(1)]
    assert await admin(t, "suggestions") == [replies.SUGGESTIONS_NONE]  # proposed once
    assert await admin(t, "reject 1") == [replies.no_suggestion(1)]
    async with t.helpdesk.sessions() as s:
        question = await s.get_one(MissedQuestion, 1)
        (audit,) = await s.scalars(select(AuditEntry))
    assert (question.review, question.reviewed_by) == ("rejected", "fake:adam")
    assert (audit.action, audit.actor, audit.detail) == (
        "suggestion.reject",
        "fake:adam",
        {"suggestion": 1, "case": 1},
    )


@pytest.mark.parametrize("who", ["customer", "agent"])
async def test_every_gap_and_suggestion_verb_is_refused_to_anyone_but_an_admin(
    t: Transcript, who: str, caplog: pytest.LogCaptureFixture
) -> None:
    await customers_ask(t)
    await t.agent("claim 1")
    t.agents_saw()
    user, name = PEOPLE[who]
    for text in VERBS:
        with caplog.at_level(logging.WARNING, logger="bot.dialogs.admin_verbs"):
            said = await t.agent(text, user=user, name=name)
        assert said == [replies.NOT_AN_ADMIN], text
        assert t.sent_to(ChannelRef.parse(AGENTS))[-1].private_to == user
        verb, _, args = text.partition(" ")
        assert f"refused {verb} {args!r} from fake:{user} (not an admin)" in caplog.text
    async with t.helpdesk.sessions() as s:
        assert list(await s.scalars(select(AuditEntry))) == []
        assert all(q.review is None for q in await s.scalars(select(MissedQuestion)))


async def test_a_customer_typing_an_admin_verb_in_their_chat_is_refused_and_logged(
    t: Transcript, caplog: pytest.LogCaptureFixture
) -> None:
    for text in ("/gaps", "/suggestions", "/accept 1 x", "/reject 1"):
        with caplog.at_level(logging.WARNING, logger="bot.dialogs.engine"):
            assert await t.say(text) == [replies.NOT_AN_ADMIN]
        verb = text[1:].split()[0]
        assert f"refused {verb} from fake:ada (a customer conversation)" in caplog.text


async def test_an_accepted_suggestion_becomes_an_example_of_the_intent_named(
    t: Transcript,
) -> None:
    await customers_ask(t)
    await t.agent("claim 1")
    await admin(t, "intent create recycling")
    t.agents_saw()

    assert await admin(t, "accept 1 recycling") == [replies.suggestion_accepted(1, "recycling", 1)]

    assert await admin(t, "suggestions") == [replies.SUGGESTIONS_NONE]
    async with t.helpdesk.sessions() as s:
        assert await examples_of(s, "recycling") == [RECYCLING[0]]
        question = await s.get_one(MissedQuestion, 1)
        actions = [a.action for a in await s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert (question.review, question.reviewed_intent) == ("accepted", "recycling")
    assert "suggestion.accept" in actions
