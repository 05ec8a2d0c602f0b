"""A customer asks in chat for their data to be erased; an admin confirms it in the agents'
channel; everyone else who tries is refused privately and the refusal logged. On SQLite and
PostgreSQL, through the engine, the desk, the outbox and fake channels."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import FrozenClock
from bot.commands import render_hints
from bot.config import DeskConfig, QueueConfig, RoleMembers, Roles
from bot.dialogs import replies
from bot.messages import ChannelRef, InboundKind
from bot.storage.models import Case, ErasureRequest
from tests.support.database_search import find_anywhere
from tests.support.desk import Transcript, build_transcript

AGENTS = "fake:agents"
# dana is an agent; mia a manager; adam an admin (not an agent); ada the customer
PEOPLE = {
    "customer": ("ada", "Ada"),
    "agent": ("dana", "Dana"),
    "manager": ("mia", "Mia"),
    "admin": ("adam", "Adam"),
}
ADA_WORDS = ["Lovelace-Byron", "ENGINEPARCEL", "ENGINEMORE"]


def privacy_desk() -> DeskConfig:
    return DeskConfig(
        roles=Roles(
            agents=RoleMembers(fake=["dana", "mia"]),
            managers=RoleMembers(fake=["mia"]),
            admins=RoleMembers(fake=["adam"]),
        ),
        queues=[QueueConfig(name="default", channel=AGENTS)],
        answer_threshold=0.5,
    )


@pytest.fixture
async def t(migrated_url: str, clock: FrozenClock, tmp_path: Path) -> AsyncIterator[Transcript]:
    transcript = await build_transcript(migrated_url, clock, tmp_path, desk=privacy_desk())
    transcript.customer_name = "Ada Lovelace-Byron"
    yield transcript
    await transcript.helpdesk.close()


async def ada_asks_to_be_forgotten(t: Transcript) -> None:
    await t.say("where is my delivery ENGINEPARCEL")
    await t.click("Talk to a person")
    await t.agent("resolve 1")
    await t.say("ENGINEMORE please delete my data")
    assert await t.say("/forget-me") == [replies.ERASURE_REQUESTED]
    assert await t.say("/forget") == [replies.ERASURE_ALREADY_REQUESTED]


async def test_an_admin_confirms_and_the_customer_is_erased_and_told(
    t: Transcript, engine: AsyncEngine
) -> None:
    await ada_asks_to_be_forgotten(t)
    (request,) = [o for o in t.sent_to(ChannelRef.parse(AGENTS)) if "Erasure request" in o.text]
    assert "customer 1 (fake, 1 case)" in request.text
    assert not any(word in request.text for word in ("Ada", *ADA_WORDS))  # no data in it
    (button,) = request.buttons
    assert button.label == replies.ERASURE_BUTTON
    t.agents_saw()

    verb, _, rest = button.payload.partition(":")
    said = await t.agent(
        "", user="adam", name="Adam", kind=InboundKind.ACTION, action=verb, value=rest
    )

    assert said == [replies.erased(1, 1, _counts_of(await _audit(t)))]
    assert t.new_for(t.customer) == [replies.ERASURE_DONE]
    assert await find_anywhere(engine, [*ADA_WORDS, "Ada Lovelace"]) == []
    audit = await _audit(t)
    assert (audit.status, audit.requested_via, audit.erased_by) == ("erased", "chat", "fake:adam")
    assert audit.conversation is None
    async with t.helpdesk.sessions() as s:
        assert (await s.get_one(Case, 1)).status == "closed"
    # writing again starts afresh, as someone new
    assert "Talk to a person" not in " ".join(await t.say("hello"))
    assert await t.agent("erase 1", user="adam", name="Adam") == [replies.no_erasure_request(1)]


@pytest.mark.parametrize("who", ["customer", "agent", "manager"])
async def test_anyone_but_an_admin_is_refused_privately_and_logged(
    t: Transcript, engine: AsyncEngine, who: str, caplog: pytest.LogCaptureFixture
) -> None:
    await ada_asks_to_be_forgotten(t)
    t.agents_saw()
    user, name = PEOPLE[who]
    with caplog.at_level(logging.WARNING, logger="bot.dialogs.admin_verbs"):
        said = await t.agent("erase 1", user=user, name=name)
    assert said == [replies.NOT_AN_ADMIN]
    assert t.sent_to(ChannelRef.parse(AGENTS))[-1].private_to == user
    assert f"refused erase '1' from fake:{user} (not an admin)" in caplog.text
    assert len(await find_anywhere(engine, ADA_WORDS)) > 3  # nothing erased
    assert (await _audit(t)).status == "requested"
    assert t.new_for(t.customer) == []


async def test_a_case_being_worked_needs_force_from_chat_too(
    t: Transcript, engine: AsyncEngine
) -> None:
    await t.say("where is my delivery ENGINEPARCEL")
    await t.click("Talk to a person")
    await t.agent("claim 1")
    await t.say("/forget")
    t.agents_saw()

    (refusal,) = await t.agent("erase 1", user="adam", name="Adam")
    assert "has a case being worked (#1)" in refusal
    assert await find_anywhere(engine, ["ENGINEPARCEL"])
    # typed in the case's own thread: the command is ordered with the customer's conversation,
    # whose inbox rows the erasure empties — its own row included, which must still commit
    thread = await t.thread_of(1)
    said = await t.agent("/erase 1 force", user="adam", name="Adam", channel=thread)
    assert said and said[0].startswith("Erasure request 1 done: customer 1 erased")
    assert (await _audit(t)).status == "erased"
    assert await find_anywhere(engine, ["ENGINEPARCEL", "Lovelace"]) == []


async def test_asking_in_words_points_to_the_command(t: Transcript) -> None:
    said = await t.say("Please forget me")
    assert render_hints(replies.HOW_TO_BE_FORGOTTEN, "fake") in said
    async with t.helpdesk.sessions() as s:
        assert list(await s.scalars(select(ErasureRequest))) == []  # words alone erase nothing


async def _audit(t: Transcript) -> ErasureRequest:
    async with t.helpdesk.sessions() as s:
        (request,) = await s.scalars(select(ErasureRequest))
        return request


def _counts_of(request: ErasureRequest) -> dict[str, int]:
    return {name: int(n) for name, n in request.counts.items()}
