"""Articles written in chat, through the real intent model and knowledge search over the
bundled articles: an admin adds an article and the very next customer question is answered by
it — in the same process and in a second one on the same database, without a restart; drafts
are never answered; rollback restores the previous text; every ``kb`` verb from a customer or
a plain agent is refused privately. On SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.adapters.fake import FakeChannel
from bot.bootstrap import build_helpdesk, knowledge_understander
from bot.clock import FrozenClock
from bot.config import PROJECT_ROOT, DeskConfig, QueueConfig, RoleMembers, Roles, Settings
from bot.messages import ChannelRef, InboundKind
from bot.storage.db import create_engine, session_factory
from bot.storage.migrate import upgrade_database
from bot.storage.models import ArticleRevision, AuditEntry
from nlu.model import NluModel
from nlu.train import load_or_train
from tests.support.desk import Transcript

QUESTION = "can I bring my dog to the showroom?"
ANSWER_V1 = "Dogs on a leash are welcome in our showroom every day."
ANSWER_V2 = "Only guide dogs may come into the showroom, sorry."


@pytest.fixture(scope="module")
def kb_data_dir(tmp_path_factory: pytest.TempPathFactory, e2e_data_dir: Path) -> Path:
    """The bundled sample with an index of this module's own (its tests change articles),
    and the intent model shared with the other end-to-end modules."""
    data_dir = tmp_path_factory.mktemp("kb-chat")
    for name in ("articles", "nlu", "replies.yml"):
        (data_dir / name).symlink_to(PROJECT_ROOT / "data" / name)
    (e2e_data_dir / "models").mkdir(exist_ok=True)
    (data_dir / "models").symlink_to(e2e_data_dir / "models")
    return data_dir


@pytest.fixture(scope="module")
def model(kb_data_dir: Path, embedder: Any) -> NluModel:
    settings = Settings(HELPDESK_DATA_DIR=kb_data_dir)
    return load_or_train(settings.nlu_sources, settings.model_dir, embedder)


def kb_desk() -> DeskConfig:
    return DeskConfig(
        roles=Roles(
            agents=RoleMembers(fake=["dana", "root"]),
            admins=RoleMembers(fake=["root"]),
        ),
        queues=[QueueConfig(name="default", channel="fake:agents")],
    )


class Processes:
    """Two processes of one desk on one database: each its own engine, understander and
    fake channel."""

    def __init__(self) -> None:
        self.desks: list[Transcript] = []
        self._engines: list[Any] = []

    async def start(self, url: str, data_dir: Path, embedder: Any, model: NluModel) -> Transcript:
        settings = Settings(DATABASE_URL=url, HELPDESK_DATA_DIR=data_dir)
        await upgrade_database(settings.effective_database_url)
        engine = create_engine(settings.effective_database_url)
        self._engines.append(engine)
        clock = FrozenClock()
        understander = await knowledge_understander(
            settings, kb_desk(), session_factory(engine), clock, encoder=embedder, model=model
        )
        channels = {"fake": FakeChannel(platform="fake")}
        helpdesk = await build_helpdesk(
            settings, channels=channels, understander=understander, clock=clock, desk=kb_desk()
        )
        # event ids of its own: the inbox would take the other's "ev3" for a redelivery
        ids = itertools.count(100_000 * (len(self.desks) + 1))
        desk = Transcript(helpdesk=helpdesk, channels=channels, _ids=ids)
        self.desks.append(desk)
        return desk

    async def close(self) -> None:
        for desk in self.desks:
            await desk.helpdesk.close()
        for engine in self._engines:
            await engine.dispose()


@pytest.fixture
async def two(
    database_url: str, kb_data_dir: Path, embedder: Any, model: NluModel
) -> AsyncIterator[tuple[Transcript, Transcript]]:
    processes = Processes()
    first = await processes.start(database_url, kb_data_dir, embedder, model)
    second = await processes.start(database_url, kb_data_dir, embedder, model)
    yield first, second
    await processes.close()


def customer(n: int) -> dict[str, Any]:
    """A customer of their own, so each question starts a fresh conversation."""
    return {"channel": ChannelRef("fake", f"dm-{n}"), "user_id": f"c{n}", "user_name": f"C{n}"}


async def admin(desk: Transcript, text: str, user: str = "root") -> list[str]:
    """The admin writes in the agents' channel: ``kb …`` as a command (``/kb …``, as typed in
    Telegram), anything else as a plain message (a prompt's answer)."""
    typed = f"/{text}" if text.startswith("kb ") else text
    return await desk.agent(typed, user=user, name="Root", kind=InboundKind.MESSAGE)


async def add_in_chat(desk: Transcript, title: str, body: str, questions: str) -> str:
    """The guided prompt, one message per step; the new draft's slug."""
    assert "title" in (await admin(desk, "kb add"))[0]
    assert "answer" in (await admin(desk, title))[0]
    assert "questions" in (await admin(desk, body))[0]
    saved = await admin(desk, questions)
    assert "Saved as draft" in saved[0], saved
    return saved[0].split("'")[1]


async def test_a_published_article_answers_the_next_question_in_both_processes(
    two: tuple[Transcript, Transcript],
) -> None:
    first, second = two
    before = " ".join(await first.say(QUESTION, **customer(1)))
    assert ANSWER_V1 not in before

    slug = await add_in_chat(first, "Dogs in the showroom", ANSWER_V1, QUESTION)
    assert slug == "dogs-in-the-showroom"
    drafted = " ".join(await first.say(QUESTION, **customer(2)))
    assert ANSWER_V1 not in drafted, "a draft must not be answered"
    assert ANSWER_V1 not in " ".join(await second.say(QUESTION, **customer(3)))

    published = await admin(first, f"kb publish {slug}")
    assert "Published" in published[0]

    assert ANSWER_V1 in " ".join(await first.say(QUESTION, **customer(4)))
    assert ANSWER_V1 in " ".join(await second.say(QUESTION, **customer(5)))


async def test_rollback_restores_the_previous_article_everywhere(
    two: tuple[Transcript, Transcript],
) -> None:
    first, second = two
    slug = await add_in_chat(first, "Dogs in the showroom", ANSWER_V1, QUESTION)
    await admin(first, f"kb publish {slug}")
    assert ANSWER_V1 in " ".join(await second.say(QUESTION, **customer(1)))

    await admin(first, f"kb edit {slug}")
    await admin(first, ".")  # the title stays
    await admin(first, ANSWER_V2)
    saved = await admin(first, ".")  # the questions stay
    assert "not live yet" in saved[0]
    assert ANSWER_V1 in " ".join(await second.say(QUESTION, **customer(2))), "edit not live"
    await admin(first, f"kb publish {slug}")
    assert ANSWER_V2 in " ".join(await second.say(QUESTION, **customer(3)))

    rolled = await admin(first, f"kb rollback {slug}")
    assert "back to revision 2" in rolled[0], rolled
    assert ANSWER_V1 in " ".join(await second.say(QUESTION, **customer(4)))
    assert ANSWER_V1 in " ".join(await first.say(QUESTION, **customer(5)))

    history = "\n".join(await admin(first, f"kb history {slug}"))
    for line in ("5. ", "rollback", "4. ", "publish", "3. ", "edit", "1. ", "add", "fake:root"):
        assert line in history

    await admin(first, f"kb retire {slug}")
    assert ANSWER_V1 not in " ".join(await second.say(QUESTION, **customer(6)))
    async with first.helpdesk.sessions() as session:
        actions = list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
        numbers = list(await session.scalars(select(ArticleRevision.number)))
    assert actions[-6:] == [
        "article.add",
        "article.publish",
        "article.edit",
        "article.publish",
        "article.rollback",
        "article.retire",
    ]
    assert sorted(numbers)[-6:] == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize("who", ["c9", "dana"])
async def test_every_kb_verb_is_refused_to_customers_and_plain_agents(
    two: tuple[Transcript, Transcript], who: str, caplog: pytest.LogCaptureFixture
) -> None:
    first, _ = two
    verbs = [
        "kb add",
        "kb edit reset-password",
        "kb preview reset-password",
        "kb publish reset-password",
        "kb retire reset-password",
        "kb history reset-password",
        "kb rollback reset-password",
        "kb list drafts",
        "kb search password",
        "kb promote 1",
    ]
    caplog.set_level(logging.WARNING)
    for text in verbs:
        if who == "dana":  # an agent in the agents' channel
            said = await first.agent(text, user="dana", kind=InboundKind.COMMAND)
            sent = [o for o in first.channels["fake"].sent if o.text in said]
            assert said == ["Sorry, only administrators can do that."], text
            assert all(o.private_to == "dana" for o in sent), "a refusal is private"
        else:  # a customer typing the command in their own chat
            said = await first.say(f"/{text}", **customer(9))
            assert not any("revision" in s or "Preview" in s for s in said), text
    refusals = [r for r in caplog.records if r.getMessage().startswith("refused kb")]
    assert len(refusals) == len(verbs), "every refusal is logged"
    async with first.helpdesk.sessions() as session:
        changes = await session.scalars(
            select(AuditEntry.action).where(AuditEntry.actor != "import")
        )
        assert changes.all() == [], "nothing changed"


async def test_a_prompt_lives_in_the_database_and_expires(
    two: tuple[Transcript, Transcript],
) -> None:
    first, second = two
    await admin(first, "kb add")
    await admin(first, "Opening hours")
    # the next step reaches the other process: the prompt is not in the first one's memory
    assert "questions" in (await admin(second, "We are open 9 to 5 on weekdays."))[0]
    assert await admin(second, "cancel") == ["Stopped. Nothing was saved."]
    assert await admin(first, "Too late") == [], "a cancelled prompt takes no answer"

    await admin(first, "kb add")
    clock = first.helpdesk.clock
    assert isinstance(clock, FrozenClock)
    clock.advance(minutes=31)
    assert await admin(first, "Too late") == [], "a lapsed prompt takes no answer"
    async with first.helpdesk.sessions() as session:
        drafts = await session.scalars(
            select(ArticleRevision).where(ArticleRevision.action != "import")
        )
        assert drafts.all() == [], "no draft saved"
