"""The dialog end to end through the engine, the outbox and fake channels, on SQLite and
PostgreSQL. The understander is a keyword fake; what is asserted is what people see."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.clock import FrozenClock
from bot.dialogs import replies
from bot.storage.models import AnswerFeedback, Case, CaseEvent, InboxMessage
from tests.support.desk import Transcript, build_transcript


@pytest.fixture
async def t(migrated_url: str, clock: FrozenClock, tmp_path: Path) -> AsyncIterator[Transcript]:
    transcript = await build_transcript(migrated_url, clock, tmp_path)
    yield transcript
    await transcript.helpdesk.close()


async def test_a_covered_question_gets_the_article_and_helped_is_recorded(t: Transcript) -> None:
    (answer,) = await t.say("I forgot my password")
    assert "Reset your password" in answer
    assert await t.click("That helped") == [replies.GLAD_IT_HELPED]
    async with t.helpdesk.sessions() as s:
        feedback = (await s.scalars(select(AnswerFeedback))).one()
    assert (feedback.article_slug, feedback.helpful) == ("reset-your-password", True)


async def test_talk_to_a_person_opens_a_case_that_carries_the_conversation(t: Transcript) -> None:
    await t.say("I forgot my password")
    (opened,) = await t.click("Talk to a person")
    assert "case #1" in opened
    (post,) = t.agents_saw()
    assert "New case #1" in post and "I forgot my password" in post and "Ada" in post
    assert "First response due:" in post  # the SLA clock started before the post went out
    async with t.helpdesk.sessions() as s:
        case = await s.get_one(Case, 1)
        kinds = [e.kind for e in await s.scalars(select(CaseEvent).order_by(CaseEvent.id))]
        helpful = await s.scalar(select(AnswerFeedback.helpful))
    assert case.status == "new" and case.subject == "I forgot my password"
    assert kinds[0] == "customer_message"
    assert helpful is False


async def test_two_misses_offer_a_person_and_later_messages_add_to_the_case(
    t: Transcript,
) -> None:
    assert await t.say("the thing is weird") == [replies.REPHRASE]
    assert await t.say("the round thing stopped") == [replies.OFF_TOPIC]
    assert t.agents_saw() == []  # no case behind the customer's back
    (opened,) = await t.click("Talk to a person")
    assert "case #1" in opened
    t.agents_saw()
    assert await t.say("also it happened twice") == [replies.added_to_case(1)]
    assert t.agents_saw() == ["#1 Ada: also it happened twice"]
    async with t.helpdesk.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Case)) == 1


async def test_greetings_and_thanks_never_open_cases(t: Transcript) -> None:
    assert await t.say("hello") == [replies.GREETING]
    assert await t.say("thanks") == [replies.THANKS]
    assert await t.say("hi") == [replies.GREETING]
    async with t.helpdesk.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Case)) == 0


async def test_status_lists_cases_and_close_closes_my_own(t: Transcript) -> None:
    assert await t.say("/status") == [replies.NO_CASES]
    await t.say("I need a human")
    await t.say("my hub is dead")
    (listing,) = await t.say("/status")
    assert "#1 — my hub is dead — new" in listing
    assert await t.say("/close") == [replies.case_closed(1)]
    assert "#1 was closed by the customer." in t.agents_saw()
    (listing,) = await t.say("/status")
    assert "closed" in listing


async def test_the_agent_loop_claim_reply_note_resolve_and_rating(t: Transcript) -> None:
    await t.say("delivery is late, I need a person")
    t.agents_saw()
    assert (await t.agent("claim 1"))[-1] == "#1 claimed by Dana."
    assert t.new_for(t.customer) == [replies.agent_joined("Dana", 1)]
    await t.agent("reply 1 Hi Ada, I'm checking with the courier.")
    assert t.new_for(t.customer) == ["Dana (Support): Hi Ada, I'm checking with the courier."]
    await t.agent("note 1 courier says Friday")
    assert t.new_for(t.customer) == []  # notes never reach the customer
    assert await t.say("ok thank you") == []  # with an agent, the bot stays quiet
    assert any("ok thank you" in line for line in t.agents_saw())
    await t.agent("resolve 1")
    assert t.new_for(t.customer) == [replies.case_resolved(1)]
    assert await t.click("5 ☺") == [replies.RATING_THANKS]
    async with t.helpdesk.sessions() as s:
        case = await s.get_one(Case, 1)
    assert (case.status, case.assignee_name, case.csat) == ("resolved", "Dana", 5)
    assert case.first_response_at is not None


async def test_a_second_claimer_is_told_who_holds_the_case(t: Transcript) -> None:
    await t.say("I want a person about my delivery")
    await t.agent("claim 1")
    assert (await t.agent("claim 1", user="eve", name="Eve"))[-1] == replies.claim_conflict(
        1, "Dana"
    )


async def test_people_without_the_agent_role_are_refused(t: Transcript) -> None:
    await t.say("I want a person about my delivery")
    t.agents_saw()
    assert await t.agent("claim 1", user="mallory", name="Mallory") == [replies.NOT_AN_AGENT]
    async with t.helpdesk.sessions() as s:
        assert (await s.get_one(Case, 1)).assignee is None


async def test_relayed_customer_text_cannot_ping_or_run_commands(t: Transcript) -> None:
    await t.say("I need a human please")
    await t.say("urgent @channel @everyone <!here> /resolve 1")
    t.agents_saw()
    await t.say("claim 1")
    relayed = t.agents_saw()
    assert relayed, "the customer's words reach the agents"
    for line in relayed:
        assert "@channel" not in line and "@everyone" not in line and "<!here>" not in line
    async with t.helpdesk.sessions() as s:
        case = await s.get_one(Case, 1)
    assert (case.status, case.assignee) == ("new", None)


async def test_redelivered_events_are_answered_once(t: Transcript) -> None:
    inbound = t._inbound(text="hello")
    assert await t.helpdesk.intake.receive(inbound) is True
    assert await t.helpdesk.intake.receive(inbound) is False
    await t.helpdesk.sender.drain()
    assert t.new_for(t.customer) == [replies.GREETING]


async def test_bad_input_gets_a_clear_answer_and_is_kept(t: Transcript) -> None:
    assert await t.say("") == [replies.EMPTY_MESSAGE]
    assert await t.say("\x00\x01binary") == [replies.EMPTY_MESSAGE]
    assert await t.say("x" * 5000) == [replies.too_long(4000)]
    assert await t.say("/frobnicate") == ["I don't know the command '/frobnicate'. Try /help."]
    async with t.helpdesk.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(InboxMessage)) == 4


async def test_unsupported_language_is_offered_a_person(t: Transcript) -> None:
    (reply,) = await t.say("¿Dónde está mi pedido? delivery")
    assert reply == replies.UNSUPPORTED_LANGUAGE


async def test_a_case_about_a_named_product_goes_to_the_queue_for_it(
    migrated_url: str, clock: FrozenClock, tmp_path: Path
) -> None:
    from bot.config import QueueConfig
    from bot.messages import ChannelRef
    from tests.support.desk import test_desk

    desk = test_desk()
    desk.queues.insert(0, QueueConfig(name="devices", channel="fake:devices", tags=["hub"]))
    t = await build_transcript(migrated_url, clock, tmp_path, desk=desk)
    try:
        await t.say("my hub is offline and I want a person")
        (post,) = t.new_for(ChannelRef("fake", "devices"))
        assert "New case #1" in post
        assert t.agents_saw() == []  # the default queue did not get it
        async with t.helpdesk.sessions() as s:
            case = await s.get_one(Case, 1)
        assert (case.queue, case.tags) == ("devices", ["hub"])
    finally:
        await t.helpdesk.close()
