"""Content versions on both backends: every change counts once, also when two transactions
change the same kind at once, and a rolled-back change leaves the version as it was."""

from __future__ import annotations

import asyncio

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import FrozenClock
from bot.storage.content import (
    ARTICLES,
    INTENTS,
    bump_version,
    catching_up,
    current_version,
    record_change,
)
from bot.storage.db import is_sqlite
from bot.storage.models import AuditEntry

Sessions = async_sessionmaker[AsyncSession]


async def test_each_change_bumps_its_own_kind(sessions: Sessions, clock: FrozenClock) -> None:
    async with sessions() as session:
        assert await current_version(session, ARTICLES) == 0
    for _ in range(3):
        async with sessions.begin() as session:
            await bump_version(session, ARTICLES, at=clock.now(), by="slack:U1")
    async with sessions.begin() as session:
        await bump_version(session, INTENTS, at=clock.now())
    async with sessions() as session:
        assert await current_version(session, ARTICLES) == 3
        assert await current_version(session, INTENTS) == 1


async def test_a_rolled_back_change_is_not_counted(sessions: Sessions, clock: FrozenClock) -> None:
    async with sessions() as session:
        await bump_version(session, ARTICLES, at=clock.now())
        record_change(
            session, at=clock.now(), actor="cli:root", platform="cli", action="article.publish"
        )
        await session.rollback()
    async with sessions() as session:
        assert await current_version(session, ARTICLES) == 0
        assert (await session.scalars(select(AuditEntry))).all() == []


async def test_concurrent_changes_get_distinct_versions(
    sessions: Sessions, clock: FrozenClock, migrated_url: str
) -> None:
    async def change() -> int:
        async with sessions.begin() as session:
            return await bump_version(session, ARTICLES, at=clock.now())

    if is_sqlite(migrated_url):  # one writer at a time: run them in turn
        versions = [await change() for _ in range(5)]
    else:
        versions = list(await asyncio.gather(*(change() for _ in range(5))))
    assert sorted(versions) == [1, 2, 3, 4, 5]


async def test_before_each_message_one_read_brings_every_live_part_its_version(
    sessions: Sessions, clock: FrozenClock, engine: AsyncEngine
) -> None:
    """The knowledge base and the intent model each learn their own version from one statement
    (a customer's message pays one round trip for both, not one session each)."""
    async with sessions.begin() as session:
        await bump_version(session, INTENTS, at=clock.now())
        await bump_version(session, INTENTS, at=clock.now())
    handed: dict[str, int] = {}

    async def part(kind: str, version: int) -> None:
        handed[kind] = version

    catch_up = catching_up(
        sessions,
        {ARTICLES: lambda v: part(ARTICLES, v), INTENTS: lambda v: part(INTENTS, v)},
    )
    statements: list[str] = []

    def counted(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine.sync_engine, "before_cursor_execute", counted)
    try:
        await catch_up()
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", counted)
    assert handed == {ARTICLES: 0, INTENTS: 2}
    assert len(statements) == 1
