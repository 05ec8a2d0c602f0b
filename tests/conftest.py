"""Shared fixtures: the database (SQLite always, PostgreSQL when HELPDESK_TEST_POSTGRES_URL is
set), the real embedding model (loaded once per session) and a controllable clock.

Database fixtures, each parametrized over both backends through ``database_url``:

``database_url``   a fresh, empty database of its own for every test: a SQLite file in
                   ``tmp_path``, or a uniquely named PostgreSQL database created beside the one
                   in ``HELPDESK_TEST_POSTGRES_URL`` and dropped after the test. Without that
                   variable the PostgreSQL case is skipped, except with ``CI=true``, where it fails.
``migrated_url``   the same URL after ``upgrade_database`` (for code that builds its own engine).
``engine``         an ``AsyncEngine`` on the migrated database (disposed after the test).
``sessions``       an ``async_sessionmaker`` on ``engine``.
``uow_factory``    ``lambda: UnitOfWork(sessions, clock)``.

``clock`` is a ``FrozenClock`` at 2026-01-05 09:00 UTC; ``embedder`` the real
``CachingEmbedder(SentenceTransformerEmbedder())``, built once per session (lazily loaded).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import pytest

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


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _asyncpg_dsn(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"postgresql://{rest}" if scheme.startswith("postgres") else url


async def _admin_connection(base_url: str) -> Any:
    import asyncpg

    dsn = _asyncpg_dsn(base_url)
    try:
        return await asyncpg.connect(dsn)
    except asyncpg.InvalidCatalogNameError:
        # The named database does not exist (yet): administer from the maintenance database.
        return await asyncpg.connect(_with_database(dsn, "postgres"))


@pytest.fixture
def clock() -> FrozenClock:
    from bot.clock import FrozenClock

    return FrozenClock()


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
async def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'helpdesk.db'}"
        return

    base_url = _postgres_base_url()
    base_name = urlsplit(base_url).path.lstrip("/") or "helpdesk_test"
    name = f"{base_name[:40]}_{uuid.uuid4().hex[:12]}"
    admin = await _admin_connection(base_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield _with_database(base_url, name)
    finally:
        admin = await _admin_connection(base_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest.fixture
async def migrated_url(database_url: str) -> str:
    from bot.storage.migrate import upgrade_database

    await upgrade_database(database_url)
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
