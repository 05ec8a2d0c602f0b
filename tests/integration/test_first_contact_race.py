"""First contact from two processes at once: a known customer's new conversation (a new
thread, a second DM), and a new customer writing in two places. The second process reaches its
INSERT while the first holds its uncommitted one; both messages must be handled."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import FrozenClock
from bot.dialogs.engine import DialogEngine
from bot.messages import ChannelRef, Inbound, InboundKind
from bot.storage.db import create_engine, session_factory
from bot.storage.models import CustomerIdentity, DialogSession, OutboxMessage
from bot.storage.uow import UnitOfWork
from tests.support.desk import KeywordUnderstander, test_desk

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def other_engine(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    """A second process's connection pool on the same database."""
    engine = create_engine(migrated_url)
    yield engine
    await engine.dispose()


def dialog(sessions: Sessions, clock: FrozenClock, before_commit: Any = None) -> DialogEngine:
    def factory() -> UnitOfWork:
        uow = UnitOfWork(sessions, clock)
        if before_commit is not None:
            uow.before_commit(before_commit)
        return uow

    return DialogEngine(
        uow_factory=factory, understander=KeywordUnderstander(), desk=test_desk(), clock=clock
    )


def says(user: str, channel: str, event_id: str) -> Inbound:
    return Inbound(
        kind=InboundKind.MESSAGE,
        event_id=event_id,
        channel=ChannelRef.parse(channel),
        user_id=user,
        user_name=user.title(),
        text="hello",
    )


def on_insert_into(engine: AsyncEngine, table: str) -> tuple[asyncio.Event, Callable[[], None]]:
    """An event set when ``engine`` is about to run an INSERT into ``table``."""
    reached = asyncio.Event()

    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith(f"INSERT INTO {table.upper()}"):
            reached.set()

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    return reached, lambda: event.remove(engine.sync_engine, "before_cursor_execute", before)


async def race(
    engine: AsyncEngine,
    other_engine: AsyncEngine,
    clock: FrozenClock,
    first: Inbound,
    second: Inbound,
    table: str,
) -> None:
    """``first`` inserts and waits before its commit; ``second`` runs up to its own INSERT
    into ``table``; then ``first`` commits and both finish."""
    holding, release = asyncio.Event(), asyncio.Event()

    async def hold(_: UnitOfWork) -> None:
        holding.set()
        await release.wait()

    one = dialog(session_factory(engine), clock, hold)
    two = dialog(session_factory(other_engine), clock)
    reached, unlisten = on_insert_into(other_engine, table)
    try:
        first_task = asyncio.create_task(one.handle(first))
        await holding.wait()
        second_task = asyncio.create_task(two.handle(second))
        await reached.wait()
        release.set()
        await asyncio.gather(first_task, second_task)
    finally:
        unlisten()


async def count(sessions: Sessions, query: Any) -> int:
    async with sessions() as session:
        return int(await session.scalar(query) or 0)


async def test_a_known_customers_new_conversation_from_two_processes_at_once(
    engine: AsyncEngine, other_engine: AsyncEngine, sessions: Sessions, clock: FrozenClock
) -> None:
    await dialog(sessions, clock).handle(says("ada", "fake:dm-ada", "e0"))  # known customer
    thread = "fake:support/1700000000.1"
    await race(
        engine,
        other_engine,
        clock,
        says("ada", thread, "e1"),
        says("ada", thread, "e2"),
        "dialog_sessions",
    )
    assert await count(sessions, select(func.count()).select_from(DialogSession)) == 2
    replies = select(func.count()).where(OutboxMessage.conversation == "fake:support")
    assert await count(sessions, replies) == 2


async def test_a_new_customer_writing_in_two_places_at_once_becomes_one_customer(
    engine: AsyncEngine, other_engine: AsyncEngine, sessions: Sessions, clock: FrozenClock
) -> None:
    await race(
        engine,
        other_engine,
        clock,
        says("bob", "fake:dm-bob", "e1"),
        says("bob", "fake:support/1700000000.2", "e2"),
        "customers",  # after it found no identity (on SQLite it waits right there)
    )
    identities = select(func.count()).select_from(CustomerIdentity)
    assert await count(sessions, identities) == 1
    async with sessions() as session:
        owners = set(await session.scalars(select(DialogSession.customer_id)))
    assert len(owners) == 1
    assert await count(sessions, select(func.count()).select_from(OutboxMessage)) == 2
