"""Shared fixtures: the database (SQLite always, PostgreSQL when HELPDESK_TEST_POSTGRES_URL is
set), the real embedding model (loaded once per session) and a controllable clock.

Database fixtures, each parametrized over both backends through ``database_url``:

``database_url``   a database of its own for every test: a SQLite file in ``tmp_path``, or a
                   PostgreSQL database beside the one in ``HELPDESK_TEST_POSTGRES_URL``. Empty,
                   unless the test also asks for ``migrated_url``: then it comes migrated, with
                   no rows (see ``tests.support.databases``). Without that variable the
                   PostgreSQL case is skipped, except with ``CI=true``, where it fails.
``migrated_url``   the same URL, migrated (for code that builds its own engine).
``engine``         an ``AsyncEngine`` on the migrated database (disposed after the test).
``sessions``       an ``async_sessionmaker`` on ``engine``.
``uow_factory``    ``lambda: UnitOfWork(sessions, clock)``.

``clock`` is a ``FrozenClock`` at 2026-01-05 09:00 UTC; ``embedder`` the real
``CachingEmbedder(SentenceTransformerEmbedder())``, built once per session (lazily loaded).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

from tests.support.databases import MigratedDatabases
from tests.support.pg_admin import admin_connection, with_database

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

    from bot.clock import FrozenClock
    from bot.storage.uow import UnitOfWorkFactory

POSTGRES_ENV = "HELPDESK_TEST_POSTGRES_URL"


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def _postgres_base_url() -> str:
    url = os.environ.get(POSTGRES_ENV, "").strip()
    if not url:
        reason = (
            f"{POSTGRES_ENV} is not set (e.g. postgresql://postgres@127.0.0.1:5432/helpdesk_test);"
            " scripts/test.sh sets it"
        )
        if _in_ci():
            pytest.fail(f"CI=true but {reason}: PostgreSQL tests must not be skipped in CI")
        pytest.skip(reason)
    return url


@pytest.fixture
def clock() -> FrozenClock:
    from bot.clock import FrozenClock

    return FrozenClock()


@pytest.fixture(scope="session")
def migrated_databases(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[MigratedDatabases]:
    """Migrated databases handed out to tests (see ``tests.support.databases``)."""
    url = os.environ.get(POSTGRES_ENV, "").strip()
    base_name = urlsplit(url).path.lstrip("/") or "helpdesk_test"
    databases = MigratedDatabases(
        prefix=f"{base_name[:40]}_m{uuid.uuid4().hex[:6]}",
        base_url=url,
        workdir=tmp_path_factory.mktemp("migrated"),
    )
    yield databases
    if url:
        asyncio.run(databases.close())


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Any, migrated_databases: MigratedDatabases
) -> AsyncIterator[str]:
    # a test that asks for a migrated database (directly or through engine, sessions …) gets
    # one already migrated; any other test gets an empty one
    migrated = "migrated_url" in request.fixturenames
    if request.param == "sqlite":
        path = tmp_path / "helpdesk.db"
        if migrated:
            await migrated_databases.sqlite_copy(path)
        yield f"sqlite:///{path}"
        return

    base_url = _postgres_base_url()
    if migrated:
        name = await migrated_databases.take_postgres()
        try:
            yield with_database(base_url, name)
        finally:
            await migrated_databases.give_back_postgres(name)
        return
    base_name = urlsplit(base_url).path.lstrip("/") or "helpdesk_test"
    name = f"{base_name[:40]}_{uuid.uuid4().hex[:12]}"
    admin = await admin_connection(base_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield with_database(base_url, name)
    finally:
        admin = await admin_connection(base_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest.fixture
async def migrated_url(database_url: str) -> str:
    """``database_url`` came migrated (it looks for this fixture among the test's)."""
    return database_url


@pytest.fixture
async def engine(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    from bot.storage.db import create_engine

    engine = create_engine(migrated_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    from bot.storage.db import session_factory

    return session_factory(engine)


@pytest.fixture
def uow_factory(
    sessions: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> UnitOfWorkFactory:
    from bot.storage.uow import UnitOfWork

    return lambda: UnitOfWork(sessions, clock)


@pytest.fixture(scope="session")
def embedder() -> Any:
    from nlu.embedding import CachingEmbedder, SentenceTransformerEmbedder

    return CachingEmbedder(SentenceTransformerEmbedder())
