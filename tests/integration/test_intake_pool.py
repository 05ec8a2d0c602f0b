"""A burst of first contacts larger than the connection pool: every arrival is stored (what a
platform needs before its acknowledgement), none is lost, each is handled once. Handling is
held inside its transaction until the last arrival is stored, so a process that let every
conversation take a connection at once would run the pool dry and fail to store arrivals."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import FrozenClock
from bot.dialogs.desk import AgentDesk
from bot.dialogs.engine import DialogEngine
from bot.dialogs.intake import Intake
from bot.dialogs.roles import RoleBook
from bot.messages import ChannelRef, Inbound, InboundKind
from bot.storage.db import create_engine, pool_for, session_factory
from bot.storage.models import InboxMessage, OutboxMessage
from bot.storage.uow import UnitOfWork
from tests.support.desk import KeywordUnderstander, test_desk

CONCURRENCY = 2
POOL = sum(pool_for(CONCURRENCY).values())  # connections the pool can ever open
CUSTOMERS = 2 * POOL + 4
# a connection wait this long fails the store (SQLAlchemy's default is 30 s): the burst
# must not wait for a connection at all for long, so the test says so in seconds, not minutes
POOL_TIMEOUT = 5

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]


@pytest.fixture
async def pooled(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(migrated_url, pool_timeout=POOL_TIMEOUT, **pool_for(CONCURRENCY))
    yield engine
    await engine.dispose()


class HeldUnitOfWork(UnitOfWork):
    """Commits only once the gate opens: a transaction (and its connection) held open."""

    gate: asyncio.Event

    async def commit(self) -> None:
        await self.gate.wait()
        await super().commit()


def first_contact(n: int) -> Inbound:
    return Inbound(
        kind=InboundKind.MESSAGE,
        event_id=f"evt-{n}",
        channel=ChannelRef.parse(f"fake:dm-{n}"),
        user_id=f"u{n}",
        user_name=f"Customer {n}",
        text="hello, how do I reset my password?",
    )


async def test_more_first_contacts_than_the_pool_are_all_stored_and_handled_once(
    pooled: AsyncEngine, clock: FrozenClock
) -> None:
    sessions = session_factory(pooled)
    gate = asyncio.Event()

    def held() -> UnitOfWork:
        uow = HeldUnitOfWork(sessions, clock)
        uow.gate = gate
        return uow

    desk = test_desk()
    intake = Intake(
        sessions=sessions,
        uow_factory=held,
        engine=DialogEngine(
            uow_factory=held, understander=KeywordUnderstander(), desk=desk, clock=clock
        ),
        desk=AgentDesk(uow_factory=held, desk=desk, roles=RoleBook(desk.roles), clock=clock),
        agent_channels=set(),
        clock=clock,
        concurrency=CONCURRENCY,
    )
    stored: list[Any] = await asyncio.gather(
        *(intake.accept(first_contact(n)) for n in range(CUSTOMERS)), return_exceptions=True
    )
    assert stored == [True] * CUSTOMERS  # no arrival failed to be stored
    gate.set()
    await asyncio.wait_for(intake.wait_idle(), timeout=60)

    assert intake.most_in_hand <= CONCURRENCY
    async with sessions() as session:
        statuses = dict(
            (
                await session.execute(
                    select(InboxMessage.status, func.count()).group_by(InboxMessage.status)
                )
            ).all()
        )
        attempts = await session.scalar(select(func.max(InboxMessage.attempts)))
        answered = await session.scalar(
            select(func.count(func.distinct(OutboxMessage.conversation)))
        )
    assert statuses == {"done": CUSTOMERS}
    assert attempts == 1  # each handled on its first attempt
    assert answered == CUSTOMERS
