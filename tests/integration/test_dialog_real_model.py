"""Whole conversations with the real intent model and knowledge search over the bundled
articles: the turns every real conversation has — a question while a case waits, a new
question after a rating, ratings, asking for a person, off-topic questions, answers with their
steps. What is asserted is what the customer and the agents see."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.clock import FrozenClock, SystemClock
from bot.config import DeskConfig, QueueConfig, RoleMembers, Roles, Settings
from bot.dialogs import replies
from bot.dialogs.understanding import EmbeddingUnderstander
from bot.knowledge.rendering import message_limit
from bot.knowledge.search import KnowledgeSearch, configured_search
from bot.knowledge.service import ensure_ready
from bot.storage.db import create_engine, session_factory
from bot.storage.migrate import upgrade_database
from bot.storage.models import Case
from nlu.model import NluModel
from nlu.train import load_or_train
from tests.support.desk import Transcript, build_transcript

BILLING = "fake:billing"
HELP_CENTER = "https://help.example.com/articles/{slug}"

MakeUnderstander = Callable[[str | None], EmbeddingUnderstander]


async def _prepare(settings: Settings, embedder: Any) -> tuple[NluModel, KnowledgeSearch]:
    await upgrade_database(settings.effective_database_url)
    engine = create_engine(settings.effective_database_url)
    try:
        model = await asyncio.to_thread(
            load_or_train, settings.nlu_sources, settings.model_dir, embedder
        )
        await ensure_ready(
            session_factory(engine),
            embedder,
            articles_dir=settings.articles_dir,
            index_dir=settings.index_dir,
            clock=SystemClock(),
        )
    finally:
        await engine.dispose()
    return model, configured_search(settings)


@pytest.fixture(scope="module")
def prepared(e2e_data_dir: Path, embedder: Any) -> tuple[NluModel, KnowledgeSearch]:
    """The bundled intent model and knowledge index, built once for the module."""
    settings = Settings(
        DATABASE_URL=f"sqlite:///{e2e_data_dir / 'knowledge.db'}", HELPDESK_DATA_DIR=e2e_data_dir
    )
    return asyncio.run(_prepare(settings, embedder))


@pytest.fixture(scope="module")
def understander_for(prepared: tuple[NluModel, KnowledgeSearch], embedder: Any) -> MakeUnderstander:
    """The bot's own understander (trained model, built index), with or without a help
    centre URL."""
    model, search = prepared

    def make(article_url: str | None) -> EmbeddingUnderstander:
        return EmbeddingUnderstander(
            encoder=embedder, parser=model, searcher=search, article_url=article_url
        )

    return make


def desk(help_center_url: str | None = None) -> DeskConfig:
    return DeskConfig(
        roles=Roles(agents=RoleMembers(fake=["dana", "eve"])),
        queues=[
            QueueConfig(name="default", channel="fake:agents"),
            QueueConfig(name="billing", channel=BILLING, intents=["billing_charge"]),
        ],
        help_center_url=help_center_url,
    )


async def _transcript(
    url: str, clock: FrozenClock, tmp: Path, make: MakeUnderstander, help_center: str | None
) -> Transcript:
    return await build_transcript(
        url, clock, tmp, desk=desk(help_center), understander=make(help_center)
    )


@pytest.fixture
async def t(
    migrated_url: str, clock: FrozenClock, tmp_path: Path, understander_for: MakeUnderstander
) -> AsyncIterator[Transcript]:
    transcript = await _transcript(migrated_url, clock, tmp_path, understander_for, HELP_CENTER)
    yield transcript
    await transcript.helpdesk.close()


@pytest.fixture
async def offline_help_center(
    migrated_url: str, clock: FrozenClock, tmp_path: Path, understander_for: MakeUnderstander
) -> AsyncIterator[Transcript]:
    transcript = await _transcript(migrated_url, clock, tmp_path, understander_for, None)
    yield transcript
    await transcript.helpdesk.close()


async def case_row(t: Transcript, number: int = 1) -> Case:
    async with t.helpdesk.sessions() as s:
        return await s.get_one(Case, number)


async def case_count(t: Transcript) -> int:
    async with t.helpdesk.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(Case)) or 0)


async def open_a_case(t: Transcript) -> None:
    assert await t.say("can I talk to a human") == [replies.ASK_DETAILS]
    (opened,) = await t.say("my hub keeps dropping off the wifi every evening")
    assert "case #1" in opened


async def resolved_case(t: Transcript) -> None:
    await open_a_case(t)
    await t.agent("claim 1")
    await t.agent("resolve 1")
    assert replies.case_resolved(1) in t.new_for(t.customer)


# --- answers while a case waits ---------------------------------------------------------------


async def test_a_question_while_the_case_waits_is_answered_and_added_to_the_case(
    t: Transcript,
) -> None:
    await open_a_case(t)
    t.agents_saw()
    answer, added = await t.say("how do I reset my password?")
    assert "Reset your Lumio password" in answer and "Forgot password?" in answer
    assert added == replies.also_added_to_case(1)
    assert t.agents_saw() == ["#1 Ada: how do I reset my password?"]
    assert "That helped" not in t.live_buttons()  # nothing to settle while the case waits

    await t.agent("claim 1")
    t.new_for(t.customer)
    answer, added = await t.say("how do I cancel Lumio Plus")
    assert "Cancel" in answer and added == replies.also_added_to_case(1)
    assert "#1 Ada: how do I cancel Lumio Plus" in t.agents_saw()
    assert (await case_row(t)).status == "open"


# --- after a resolution and a rating ----------------------------------------------------------


async def test_a_new_question_after_a_rating_is_answered_and_reopening_is_offered(
    t: Transcript,
) -> None:
    await resolved_case(t)
    assert await t.click("5 ☺") == [replies.RATING_THANKS]
    assert await t.click("Skip") == [replies.COMMENT_SKIPPED]

    answer, offer = await t.say("where is my order?")
    assert "Track" in answer
    assert offer == replies.offer_reopen(1)
    assert (await case_row(t)).status == "resolved"  # never reopened behind their back
    assert "Reopen case #1" in t.live_buttons()

    (reopened,) = await t.click("Reopen case #1")
    assert reopened == replies.case_reopened_for_customer(1, "Dana")
    case = await case_row(t)
    assert (case.status, case.reopen_count, case.csat) == ("open", 1, 5)
    assert "Reopen case #1" not in t.live_buttons()


async def test_a_new_question_right_after_resolution_is_not_a_reopen(t: Transcript) -> None:
    await resolved_case(t)
    answer, offer = await t.say("how do I reset my password?")
    assert "Reset your Lumio password" in answer and offer == replies.offer_reopen(1)
    assert await t.say("reopen") == [replies.case_reopened_for_customer(1, "Dana")]
    assert (await case_row(t)).status == "open"


async def test_ratings_count_once_only_1_to_5_and_only_for_the_resolved_case(
    t: Transcript, clock: FrozenClock
) -> None:
    await resolved_case(t)
    assert await t.say("7") == [replies.RATING_RANGE]
    case = await case_row(t)
    assert (case.status, case.csat) == ("resolved", None)  # "7" neither rated nor reopened

    assert await t.click("4") == [replies.RATING_THANKS]
    assert not {"1 ☹", "4", "5 ☺"} & set(t.live_buttons())  # the rating buttons are gone
    assert await t.click("1 ☹") == [replies.already_rated(1)]  # pressed on the old message
    assert await t.say("2") == [replies.already_rated(1)]  # a score is not the comment
    assert (await case_row(t)).csat == 4

    clock.advance(hours=2)  # the comment prompt has expired
    answer, offer = await t.say("how do I reset my password?")
    assert "Reset your Lumio password" in answer and offer == replies.offer_reopen(1)
    case = await case_row(t)
    assert (case.csat, case.csat_comment) == (4, None)


async def test_that_helped_pressed_six_times_is_one_answer(t: Transcript) -> None:
    (answer,) = await t.say("how do I reset my password?")
    assert "Reset your Lumio password" in answer
    said = [await t.click("That helped") for _ in range(6)]
    assert said == [[replies.GLAD_IT_HELPED]] + [[]] * 5
    assert "That helped" not in t.live_buttons()


# --- asking for a person ----------------------------------------------------------------------


async def test_talk_to_a_person_after_a_billing_question_keeps_its_intent(t: Transcript) -> None:
    (answer,) = await t.say("I was charged twice this month")
    assert "charge" in answer.lower()
    (opened,) = await t.click("Talk to a person")
    assert "case #1" in opened
    case = await case_row(t)
    assert (case.intent, case.queue) == ("billing_charge", "billing")
    (post,) = t.agents_saw(BILLING)  # the billing queue's rule applied
    assert "I was charged twice this month" in post


@pytest.mark.parametrize(
    "text",
    [
        "please connect me to a human, my order never arrived",
        "is there an actual person I can speak to about my refund",
        "can someone from your team call me back about a parking fine",
        "this is the third time my ride didn't end and I got charged AGAIN, get me a human",
        # held out: not used to shape the detector
        "could I talk to somebody about my invoice, the amount is wrong",
        "I need a real person to look at my failed payment",
        "my bulbs won't pair, please put me through to an agent",
    ],
)
async def test_an_explicit_request_for_a_person_is_honoured_beside_the_topic(
    t: Transcript, text: str
) -> None:
    (opened,) = await t.say(text)
    assert opened.startswith("I've opened case #1")  # a person, not an article
    case = await case_row(t)
    assert case.subject == text


async def test_a_request_for_a_person_naming_a_refund_keeps_the_refund_intent(
    t: Transcript,
) -> None:
    await t.say("is there an actual person I can speak to about my refund")
    assert (await case_row(t)).intent == "returns_refunds"


async def test_an_angry_shouted_complaint_is_escalated_at_high_priority(t: Transcript) -> None:
    (opened,) = await t.say("I was charged twice and this is ridiculous, I WANT MY MONEY BACK NOW")
    assert "case #1" in opened
    case = await case_row(t)
    assert case.priority == "high"
    assert case.intent == "billing_charge"


# --- decisions at the out-of-scope floor, with the real model's own scores -------------------


def near_the_floor(model: NluModel, embedder: Any, text: str) -> tuple[str | None, float]:
    """The real model's intent and confidence for ``text``, once its in-scope score is known to
    lie in the band around the floor where the confidence ramps (floor ± width): the messages
    a second gate used to drop."""
    prediction = model.classifier.predict(embedder.encode([text])[0], text)
    floor = model.classifier.thresholds
    assert floor.score - floor.width <= prediction.score <= floor.score + floor.width, (
        f"{text!r} no longer sits at the floor (score {prediction.score:.3f}): pick another"
    )
    return prediction.intent, prediction.confidence


async def test_a_billing_message_the_model_barely_accepts_reaches_the_billing_queue(
    t: Transcript, prepared: tuple[NluModel, KnowledgeSearch], embedder: Any
) -> None:
    intent, confidence = near_the_floor(prepared[0], embedder, "extra fee??")
    assert intent == "billing_charge" and confidence < 0.5  # accepted, with little confidence

    await t.say("extra fee??")
    (opened,) = await t.say("can I talk to a human")
    assert "case #1" in opened
    case = await case_row(t)
    assert (case.intent, case.queue) == ("billing_charge", "billing")
    assert any("extra fee??" in post for post in t.agents_saw(BILLING))


async def test_a_message_just_below_the_floor_gets_an_article_not_a_guessed_intent(
    t: Transcript, prepared: tuple[NluModel, KnowledgeSearch], embedder: Any
) -> None:
    intent, _ = near_the_floor(prepared[0], embedder, "scenes")
    assert intent is None  # rejected by the classifier, just below its floor

    (answer,) = await t.say("scenes")  # knowledge search still answers
    assert "scene" in answer.lower() and "Did this help?" in answer
    assert await case_count(t) == 0 and t.agents_saw() == []


async def test_a_shouted_request_for_a_person_below_confidence_half_reaches_a_person(
    t: Transcript, prepared: tuple[NluModel, KnowledgeSearch], embedder: Any
) -> None:
    model = prepared[0]
    parse = model.parse_vector("HUMAN. NOW.", embedder.encode(["HUMAN. NOW."])[0])
    assert parse.intent == "human_handoff" and parse.confidence < 0.5  # the real model's figure

    assert await t.say("HUMAN. NOW.") == [replies.ASK_DETAILS]


# --- off topic --------------------------------------------------------------------------------


async def test_two_off_topic_questions_say_what_the_bot_covers_and_offer_a_person(
    t: Transcript,
) -> None:
    assert await t.say("what's the capital of mongolia") == [replies.REPHRASE]
    assert await t.say("who painted the mona lisa") == [replies.OFF_TOPIC]
    assert "Talk to a person" in t.live_buttons()
    assert await case_count(t) == 0 and t.agents_saw() == []
    (opened,) = await t.click("Talk to a person")
    assert "case #1" in opened


# --- answers that help on their own -----------------------------------------------------------

_ENDS_ON_A_LIST_NUMBER = re.compile(r"(?:^|\n)\s*\d+[.)]?\s*…?$")


async def test_an_answer_shows_the_matching_steps_and_links_the_article(t: Transcript) -> None:
    (answer,) = await t.say("I didn't get the reset email, I checked spam")
    assert "Check your spam" in answer  # the section that matched, with its steps
    assert "https://help.example.com/articles/reset-your-password" in answer
    assert "kb:" not in answer
    assert "Show the whole article" not in t.live_buttons()


@pytest.mark.parametrize(
    ("question", "step"),
    [
        ("how do I reset my password?", "1. Go to lumio.example/account"),
        ("how do I cut a light strip", "1. Unplug the power first."),
    ],
)
async def test_a_how_to_question_gets_the_steps(t: Transcript, question: str, step: str) -> None:
    (answer,) = await t.say(question)
    assert step in answer and "\n2. " in answer


async def test_without_a_help_center_the_whole_article_is_a_button_away(
    offline_help_center: Transcript,
) -> None:
    t = offline_help_center
    (answer,) = await t.say("how do I reset my password?")
    assert "kb:" not in answer and "http" not in answer
    parts = await t.click("Show the whole article")
    whole = "\n".join(parts)
    assert "Reset your password from the website" in whole
    assert "If the reset email doesn't arrive" in whole
    assert all(len(p) <= message_limit("fake") for p in parts)
    assert not any(_ENDS_ON_A_LIST_NUMBER.search(p) for p in [answer, *parts])
