"""Intents edited from chat, through the real model: an admin's new intent with a canned
response answers the very next message once the background retrain is done, in this process and
in a second one on the same database; an intent whose action is an article answers with it;
retiring takes an intent out; a message during the retrain is answered by the old model.

A small bakery (``tests/fixtures/bakery``) keeps the training set small; the example vectors
and the first model are cached in one directory shared by the module's tests."""

from __future__ import annotations

import asyncio
import re
import shutil
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.bootstrap import understander_for
from bot.clock import FrozenClock, SystemClock
from bot.config import DeskConfig, QueueConfig, RoleMembers, Roles, Settings
from bot.dialogs import replies
from bot.intents.live import LiveIntents
from bot.knowledge.search import configured_search
from bot.knowledge.service import ensure_ready
from bot.storage.db import create_engine, session_factory
from bot.storage.migrate import upgrade_database
from bot.storage.models import AuditEntry, Case
from nlu.train import fit_model
from tests.support.desk import Transcript, build_transcript

BAKERY = Path(__file__).parents[1] / "fixtures" / "bakery"
AGENTS = "fake:agents"
ADMIN = {"user": "adam", "name": "Adam"}
CANNED = "Our sandwiches are made fresh every morning until 14:00."
# a customer's question none of the bakery's intents covers until the admin adds one
LUNCH = "do you sell sandwiches at lunchtime"
LUNCH_EXAMPLES = (
    "can I buy a sandwich for lunch | what sandwiches do you have today | "
    "do you make sandwiches | is there a lunch menu | ham and cheese sandwich please | "
    "are sandwiches available in the afternoon"
)


def bakery_desk() -> DeskConfig:
    return DeskConfig(
        roles=Roles(
            agents=RoleMembers(fake=["dana"]),
            managers=RoleMembers(fake=["dana"]),
            admins=RoleMembers(fake=["adam"]),
        ),
        queues=[
            QueueConfig(name="default", channel=AGENTS),
            QueueConfig(name="catering", channel="fake:catering"),
        ],
    )


@pytest.fixture(scope="module")
def caches(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Path:
    """The bakery's first model, its accuracy and its examples' vectors, made once for the
    module: each desk starts from a copy, as a process finds its cache from an earlier run."""
    directory = tmp_path_factory.mktemp("bakery-model")

    async def first_start() -> None:
        url = f"sqlite:///{directory / 'scratch.db'}"
        await upgrade_database(url)
        engine = create_engine(url)
        intents = LiveIntents(
            sessions=session_factory(engine),
            encoder=embedder,
            model_dir=directory / "nlu",
            topics=BAKERY / "nlu",
            clock=FrozenClock(),
        )
        try:
            await intents.start()
            await intents.evaluated()
        finally:
            await engine.dispose()

    asyncio.run(first_start())
    return directory / "nlu"


@dataclass
class Bakery:
    """A bakery desk on one database: build it (again, for a second process) with ``open``."""

    url: str
    data_dir: Path
    caches: Path
    embedder: Any
    clock: FrozenClock
    opened: list[Transcript] = field(default_factory=list)

    async def open(self, *, fit: Any = fit_model) -> Transcript:
        """A desk (a process) with a copy of the module's model cache of its own."""
        model_dir = self.data_dir / f"cache-{len(self.opened)}"
        shutil.copytree(self.caches, model_dir)
        settings = Settings(DATABASE_URL=self.url, HELPDESK_DATA_DIR=self.data_dir)
        await upgrade_database(self.url)
        engine = create_engine(self.url)
        sessions = session_factory(engine)
        await ensure_ready(
            sessions,
            self.embedder,
            articles_dir=settings.articles_dir,
            index_dir=settings.index_dir,
            clock=SystemClock(),
        )
        intents = LiveIntents(
            sessions=sessions,
            encoder=self.embedder,
            model_dir=model_dir,
            topics=settings.topic_nlu_data,
            clock=self.clock,
            fit=fit,
        )
        await intents.start()
        desk = bakery_desk()
        understander = understander_for(
            settings,
            desk,
            encoder=self.embedder,
            intents=intents,
            searcher=await asyncio.to_thread(configured_search, settings),
            sessions=sessions,
        )
        t = await build_transcript(
            self.url,
            self.clock,
            self.data_dir,
            desk=desk,
            understander=understander,
            intents=intents,
        )
        self.opened.append(t)
        await engine.dispose()
        return t


@pytest.fixture
async def bakery(
    database_url: str, tmp_path: Path, caches: Path, embedder: Any, clock: FrozenClock
) -> AsyncIterator[Bakery]:
    data_dir = tmp_path / "bakery"
    shutil.copytree(BAKERY, data_dir)
    b = Bakery(database_url, data_dir, caches, embedder, clock)
    yield b
    for t in b.opened:
        await t.helpdesk.close()


async def admin(t: Transcript, text: str) -> list[str]:
    return await t.agent(text, **ADMIN)


async def retrained(t: Transcript) -> None:
    assert t.helpdesk.intents is not None
    await asyncio.wait_for(t.helpdesk.intents.settled(), timeout=120)


async def test_a_new_intent_with_a_canned_response_answers_here_and_in_a_second_process(
    bakery: Bakery,
) -> None:
    here = await bakery.open()
    there = await bakery.open()
    assert CANNED not in await here.say(LUNCH)

    assert await admin(here, "intent create lunch_menu") == [
        replies.intent_created("lunch_menu", True)
    ]
    said = await admin(here, f"intent action lunch_menu say {CANNED}")
    assert said == [replies.intent_action_set("lunch_menu", f'says "{CANNED}"')]
    said = await admin(here, f"intent add lunch_menu {LUNCH_EXAMPLES}")
    assert said == [replies.intent_examples_added("lunch_menu", 6, []), replies.INTENT_RETRAINING]
    await retrained(here)

    assert await here.say(LUNCH, user_id="bea", channel=_dm("bea")) == [CANNED]
    # the other process has not retrained anything: it loads the stored model on its next message
    # (either process's sender may deliver the answer: they share the outbox)
    # (its own event ids: both processes share one inbox)
    await there.say(LUNCH, user_id="cy", channel=_dm("cy"), event_id="there-1")
    await here.helpdesk.sender.drain()
    assert [o.text for t in (here, there) for o in t.sent_to(_dm("cy"))] == [CANNED]
    async with here.helpdesk.sessions() as s:
        entries = (await s.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
    assert [e.action for e in entries if e.target == "lunch_menu"] == [
        "intent.create",
        "intent.action",
        "intent.examples.add",
    ]
    assert entries[-1].action == "intents.model"  # the retrained model, stored for every process
    assert entries[-1].detail["examples"] == here.helpdesk.intents.model.metadata.examples  # type: ignore[union-attr]


async def test_an_intent_whose_action_is_an_article_answers_with_it(bakery: Bakery) -> None:
    t = await bakery.open()
    said = await t.say("I'd like to order a cake for my son's birthday")
    assert said[0].startswith("Order a celebration cake")
    # set from chat, the action is served from the next message (no retraining needed)
    assert await admin(t, "intent action allergens article cake-orders") == [
        replies.intent_action_set("allergens", "answers with the article cake-orders")
    ]
    said = await t.say("is the sourdough gluten free?", user_id="bea", channel=_dm("bea"))
    assert said[0].startswith("Order a celebration cake")


async def test_a_handoff_action_opens_a_case_in_its_queue(bakery: Bakery) -> None:
    t = await bakery.open()
    await admin(t, "intent action cake_order handoff catering")
    said = await t.say("I want to order a birthday cake for 30 people")
    assert said and "#1" in said[0]
    async with t.helpdesk.sessions() as s:
        assert (await s.get_one(Case, 1)).queue == "catering"


async def test_retiring_an_intent_takes_it_out_of_the_model(bakery: Bakery) -> None:
    t = await bakery.open()
    assert (await t.say("order a chocolate cake for saturday"))[0].startswith(
        "Order a celebration cake"
    )
    assert await admin(t, "intent retire cake_order") == [
        replies.intent_retired("cake_order", 6),
        replies.INTENT_RETRAINING,
    ]
    await retrained(t)
    assert "cake_order" not in t.helpdesk.intents.model.intents  # type: ignore[union-attr]
    await asyncio.wait_for(t.helpdesk.intents.evaluated(), timeout=120)  # type: ignore[union-attr]
    listing = (await admin(t, "intent list"))[0].splitlines()
    assert "• cake_order · 6 · — · retired · answers with the article cake-orders" in listing
    # one of allergens' six examples held out, classified by a model fitted on the rest
    assert any(re.fullmatch(r"• allergens · 6 · [01]/1", line) for line in listing), listing
    assert listing[-1].startswith("Accuracy: held-out 20% of each intent with ≥ 5 examples")


async def test_a_message_during_the_retrain_is_answered_by_the_old_model(bakery: Bakery) -> None:
    started, release = threading.Event(), threading.Event()

    def slow_fit(*args: Any, **kw: Any) -> Any:
        started.set()
        assert release.wait(timeout=60), "the test never let the retrain finish"
        return fit_model(*args, **kw)

    t = await bakery.open(fit=slow_fit)
    await admin(t, "intent create lunch_menu")
    await admin(t, f"intent action lunch_menu say {CANNED}")
    await admin(t, f"intent add lunch_menu {LUNCH_EXAMPLES}")
    assert await asyncio.to_thread(started.wait, 60)
    # the retrain is under way: the old model answers, without waiting for the new one
    assert CANNED not in await t.say(LUNCH)
    release.set()
    await retrained(t)
    assert await t.say(LUNCH, user_id="bea", channel=_dm("bea")) == [CANNED]


def _dm(user: str) -> Any:
    from bot.messages import ChannelRef

    return ChannelRef("fake", f"dm-{user}")
