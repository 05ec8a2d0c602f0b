"""A database-wide lock for one-time set-up work that several starting processes would
otherwise all do at once (the first knowledge-base import), held until the transaction ends —
the way ``bot.storage.migrate`` locks migrations.

PostgreSQL: a transaction-scoped advisory lock. SQLite: ``BEGIN IMMEDIATE``, which takes the
database's write lock (the driver opens no transaction before a SELECT, so one can begin here).
"""

from __future__ import annotations

import hashlib

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


def _key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for ``name`` (distinct from migrations')."""
    digest = hashlib.sha256(f"helpdesk:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def lock_for_setup(session: AsyncSession, name: str) -> None:
    """Wait for, then hold until commit or rollback, the set-up lock called ``name``."""
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _key(name)})
    elif connection.dialect.name == "sqlite":
        await connection.exec_driver_sql("BEGIN IMMEDIATE")
