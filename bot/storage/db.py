"""The async engine and session factory, from the database URLs people paste."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession

from bot.errors import ConfigError

logger = logging.getLogger(__name__)

_SSLMODE_TO_ASYNCPG = {
    "disable": "disable",
    "allow": "allow",
    "prefer": "prefer",
    "require": "require",
    "verify-ca": "verify-ca",
    "verify-full": "verify-full",
}


def async_database_url(url: str) -> str:
    """Translate ``sqlite:///x``, ``postgres://…`` and ``postgresql://…?sslmode=`` (as hosting
    platforms hand them out) into the async drivers' forms."""
    url = url.strip()
    if not url:
        raise ConfigError("DATABASE_URL is empty")
    scheme, _, rest = url.partition("://")
    scheme = scheme.lower()
    if scheme in ("sqlite", "sqlite+aiosqlite"):
        return f"sqlite+aiosqlite://{rest}"
    if scheme in ("postgres", "postgresql", "postgresql+asyncpg", "postgresql+psycopg2"):
        parts = urlsplit(f"postgresql+asyncpg://{rest}")
        query = []
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            if key == "sslmode":
                query.append(("ssl", _SSLMODE_TO_ASYNCPG.get(value, value)))
            else:
                query.append((key, value))
        return urlunsplit(parts._replace(query=urlencode(query)))
    raise ConfigError(
        f"DATABASE_URL: unsupported scheme {scheme!r} (use sqlite:///path or postgresql://…)"
    )


def is_sqlite(url: str) -> bool:
    return async_database_url(url).startswith("sqlite")


# connections beyond the conversations being handled: storing arrivals, renewing leases, the
# outbox sender, scheduled jobs
POOL_HEADROOM = 8


def pool_for(concurrent_conversations: int) -> dict[str, int]:
    """Pool settings for a process handling ``concurrent_conversations`` at once: one
    connection each, plus headroom, so storing an arrival never waits on busy handlers."""
    return {"pool_size": concurrent_conversations + POOL_HEADROOM, "max_overflow": POOL_HEADROOM}


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    async_url = async_database_url(url)
    if async_url.endswith(":memory:") or async_url.endswith("://"):
        for key in ("pool_size", "max_overflow"):  # one shared connection: no queue pool
            kwargs.pop(key, None)
    if async_url.startswith("sqlite"):
        path = async_url.partition(":///")[2]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(async_url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(async_url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers (helpdesk cases list) run beside a writing bot; foreign keys are off by
    # default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode")
    if str(cursor.fetchone()[0]).lower() != "wal":
        _enable_wal(cursor)
    cursor.close()


def _enable_wal(cursor: Any) -> None:
    """WAL is stored in the database file, so this runs once per new database. Switching needs
    an exclusive lock, and SQLite answers "database is locked" at once (no busy wait) while
    another connection of a brand-new database holds one: retry briefly, and if the database
    stays busy leave the mode to the next connection rather than fail this one."""
    for _ in range(50):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except Exception as exc:  # the driver's OperationalError, wrapped or not
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            time.sleep(0.02)
    logger.debug("SQLite journal mode left for a later connection: the database stayed busy")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
