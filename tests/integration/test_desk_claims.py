"""Exclusive claims under contention, and claims released when their holder goes silent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cases import service as cases
from bot.cases.customers import customer_for
from bot.clock import FrozenClock
from bot.dialogs import replies
from bot.dialogs.upkeep import DeskUpkeep
from bot.errors import ClaimConflict
from bot.messages import ChannelRef
from bot.storage.models import Case, CaseEvent
from bot.storage.uow import UnitOfWorkFactory
from tests.support.desk import Transcript, build_transcript


async def test_fifty_simultaneous_claims_make_exactly_one_owner(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        customer = await customer_for(uow, "fake", "ada", "Ada")
        case = await cases.open_case(
            uow,
            customer_id=customer.id,
            customer_author="customer:fake:ada",
            customer_name="Ada",
            conversation="fake:dm-ada",
            platform="fake",
            subject="my hub is dead",
            transcript=[("customer", "my hub is dead")],
        )
        await uow.commit()
        number = case.id

    async def claim(i: int) -> str:
        async with uow_factory() as uow:
            try:
                await cases.claim_case(uow, number, f"fake:agent{i}", f"Agent {i}")
            except ClaimConflict:
                return "conflict"
            await uow.commit()
            return f"fake:agent{i}"

    outcomes = await asyncio.gather(*(claim(i) for i in range(50)))
    winners = [o for o in outcomes if o != "conflict"]
    assert len(winners) == 1
    assert outcomes.count("conflict") == 49
    async with uow_factory() as uow:
        row = await uow.session.get_one(Case, number)
        claims = await uow.session.scalar(
            select(func.count())
            .select_from(CaseEvent)
            .where(CaseEvent.case_id == number, CaseEvent.kind == "claim")
        )
    assert (row.assignee, row.status) == (winners[0], "open")
    assert claims == 1


@pytest.fixture
async def t(migrated_url: str, clock: FrozenClock, tmp_path: Path) -> AsyncIterator[Transcript]:
    transcript = await build_transcript(migrated_url, clock, tmp_path)
    yield transcript
    await transcript.helpdesk.close()


async def release_stale(t: Transcript, minutes: int = 30) -> list[int]:
    upkeep = DeskUpkeep(desk=t.helpdesk.desk)
    async with t.helpdesk.uow() as uow:
        released = await upkeep.release_stale_claims(
            uow, t.helpdesk.clock.now(), timedelta(minutes=minutes)
        )
        await uow.commit()
    await t.helpdesk.sender.drain()
    return released


async def test_a_silent_claimer_loses_the_case_and_everyone_is_told(
    t: Transcript, clock: FrozenClock
) -> None:
    await t.say("I need a person about my delivery")  # case 1
    bob = ChannelRef("fake", "dm-bob")
    await t.say("a human please", channel=bob, user_id="bob", user_name="Bob")
    await t.say("my lamp blinks", channel=bob, user_id="bob", user_name="Bob")  # case 2
    await t.agent("claim 1")
    await t.agent("claim 2", user="eve", name="Eve")
    t.agents_saw()
    t.new_for(t.customer)

    clock.advance(minutes=20)
    await t.agent("note 2 asked the warehouse", user="eve", name="Eve")  # Eve is busy on it
    clock.advance(minutes=11)
    assert await release_stale(t) == [1]

    seen = t.agents_saw()
    assert replies.auto_released(1, "Dana", 30) in seen
    assert any(line.startswith("(updated)") or "Status: unclaimed" in line for line in seen)
    assert t.new_for(t.customer) == [replies.case_released_to_customer(1)]
    async with t.helpdesk.sessions() as s:
        one, two = await s.get_one(Case, 1), await s.get_one(Case, 2)
        audit = await s.scalar(
            select(CaseEvent).where(CaseEvent.case_id == 1).order_by(CaseEvent.id.desc()).limit(1)
        )
    assert (one.status, one.assignee) == ("new", None)
    assert (two.status, two.assignee_name) == ("open", "Eve")
    assert audit is not None and (audit.kind, audit.data["agent_name"]) == ("release", "Dana")
    assert await release_stale(t) == []  # nothing left to release; Eve acted 11 minutes ago
    # the customer is back in the queue: their next message is acknowledged, not silent
    assert await t.say("any news?") == [replies.added_to_case(1)]
    # and anyone can claim it now
    assert "#1 claimed by Eve." in await t.agent("claim 1", user="eve", name="Eve")


async def test_pending_cases_are_not_auto_released(t: Transcript, clock: FrozenClock) -> None:
    await t.say("I need a person about my delivery")
    await t.agent("claim 1")
    await t.agent("pending 1")
    clock.advance(hours=3)
    assert await release_stale(t) == []
    async with t.helpdesk.sessions() as s:
        assert (await s.get_one(Case, 1)).assignee_name == "Dana"
