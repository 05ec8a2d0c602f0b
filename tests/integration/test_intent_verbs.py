"""The ``intent`` verbs' rules, without the model: only admins may use any of them (a customer
or a plain agent is refused privately, and the refusal is logged), the dialog's own intents
cannot be edited, bad input gets a clear answer and changes nothing, and ``add_examples`` (what
the knowledge-gaps flow calls) counts only new examples, audits them and asks for a retrain."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.clock import FrozenClock
from bot.config import DeskConfig, QueueConfig, RoleMembers, Roles
from bot.dialogs import replies
from bot.errors import InvalidCommand, NotFound
from bot.intents.catalog import add_examples, create_intent, retraining_wanted
from bot.messages import ChannelRef
from bot.storage.models import AuditEntry, IntentExample, IntentRecord
from tests.support.desk import Transcript, build_transcript

AGENTS = "fake:agents"
EVERY_VERB = [
    "intent list",
    "intent show greet",
    "intent create pizza_order",
    "intent add pizza_order I want a pizza",
    "intent examples pizza_order add a pizza please",
    "intent examples pizza_order remove a pizza please",
    "intent action pizza_order say We don't sell pizza.",
    "intent retire pizza_order",
]
PEOPLE = {"customer": ("cat", "Cat"), "agent": ("dana", "Dana")}


def desk() -> DeskConfig:
    return DeskConfig(
        roles=Roles(
            agents=RoleMembers(fake=["dana"]),
            managers=RoleMembers(fake=["dana"]),
            admins=RoleMembers(fake=["adam"]),
        ),
        queues=[QueueConfig(name="default", channel=AGENTS)],
    )


@pytest.fixture
async def t(migrated_url: str, clock: FrozenClock, tmp_path: Path) -> AsyncIterator[Transcript]:
    transcript = await build_transcript(migrated_url, clock, tmp_path, desk=desk())
    yield transcript
    await transcript.helpdesk.close()


async def _changes(t: Transcript) -> tuple[int, int, int]:
    async with t.helpdesk.sessions() as s:
        return (
            await s.scalar(select(func.count()).select_from(IntentRecord)) or 0,
            await s.scalar(select(func.count()).select_from(IntentExample)) or 0,
            await s.scalar(select(func.count()).select_from(AuditEntry)) or 0,
        )


@pytest.mark.parametrize("who", ["customer", "agent"])
async def test_every_intent_verb_is_refused_to_anyone_but_an_admin(
    t: Transcript, who: str, caplog: pytest.LogCaptureFixture
) -> None:
    user, name = PEOPLE[who]
    before = await _changes(t)
    for command in EVERY_VERB:
        with caplog.at_level(logging.WARNING, logger="bot.dialogs.admin_verbs"):
            said = await t.agent(command, user=user, name=name)
        assert said == [replies.NOT_AN_ADMIN], command
        assert t.sent_to(ChannelRef.parse(AGENTS))[-1].private_to == user
        assert f"refused intent {command.removeprefix('intent ')[:40]!r} from fake:{user}" in (
            caplog.text
        )
    assert await _changes(t) == before


async def test_a_customer_typing_an_intent_verb_where_customers_write_is_refused(
    t: Transcript, caplog: pytest.LogCaptureFixture
) -> None:
    before = await _changes(t)
    for command in EVERY_VERB:
        with caplog.at_level(logging.WARNING, logger="bot.dialogs.engine"):
            assert await t.say(f"/{command}") == [replies.NOT_AN_ADMIN]
    assert "refused intent from fake:ada (a customer conversation)" in caplog.text
    assert await _changes(t) == before


@pytest.mark.parametrize(
    "command",
    [
        "intent retire greet",
        "intent add human_handoff get me a human",
        "intent action thanks say You're welcome!",
        "intent create case_status",
        "intent examples reset remove start over",
    ],
)
async def test_the_dialogs_own_intents_cannot_be_edited(t: Transcript, command: str) -> None:
    before = await _changes(t)
    said = await t.agent(command, user="adam", name="Adam")
    assert len(said) == 1 and "built in" in said[0], said
    assert await _changes(t) == before


async def test_bad_input_gets_a_clear_answer_and_changes_nothing(t: Transcript) -> None:
    before = await _changes(t)
    assert await t.agent("intent", user="adam") == [replies.INTENT_USAGE]
    said = await t.agent("intent create Pizza Order!", user="adam")
    assert "lower-case letters" in said[0]
    said = await t.agent("intent add no_such_intent hello there", user="adam")
    assert said == ["There is no intent 'no_such_intent'. See 'intent list'."]
    await t.agent("intent create pizza_order", user="adam")
    said = await t.agent("intent action pizza_order handoff kitchen", user="adam")
    assert said == ["There is no queue 'kitchen'. Queues: default."]
    said = await t.agent("intent action pizza_order article no-such-article", user="adam")
    assert said == ["There is no article 'no-such-article'."]
    said = await t.agent("intent add pizza_order [unclosed(", user="adam")
    assert said and "[unclosed(" in said[0]
    intents, examples, _ = await _changes(t)
    assert (intents, examples) == (before[0] + 1, before[1])


async def test_add_examples_counts_the_new_ones_audits_and_asks_for_a_retrain(
    t: Transcript, clock: FrozenClock
) -> None:
    async with t.helpdesk.sessions.begin() as s:
        await create_intent(s, "pizza_order", actor="cli:root", platform="cli", at=clock.now())
    async with t.helpdesk.sessions() as s:
        new = await add_examples(
            s,
            "pizza_order",
            ["I want a pizza", "i want a  PIZZA", "pizza delivery please"],
            actor="slack:U1 (Ana)",
            platform="slack",
            at=clock.now(),
        )
        assert new == 2  # the second is the first again (case and spaces do not count)
        assert retraining_wanted(s) and not retraining_wanted(s)  # asked for, once
        again = await add_examples(
            s, "pizza_order", ["pizza delivery please"], actor="x", platform="x", at=clock.now()
        )
        assert again == 0 and not retraining_wanted(s)
        with pytest.raises(NotFound):
            await add_examples(s, "nope", ["hi"], actor="x", platform="x", at=clock.now())
        with pytest.raises(InvalidCommand):
            await add_examples(s, "greet", ["yo"], actor="x", platform="x", at=clock.now())
        await s.commit()
    async with t.helpdesk.sessions() as s:
        entry = (
            await s.scalars(select(AuditEntry).where(AuditEntry.action == "intent.examples.add"))
        ).one()
    assert (entry.actor, entry.platform, entry.target) == ("slack:U1 (Ana)", "slack", "pizza_order")
    assert entry.detail == {"examples": ["I want a pizza", "pizza delivery please"]}
