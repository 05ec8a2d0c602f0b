"""Revision 0003 on a database with inbox rows: handled rows become done (failed when they
carry an error), never-handled rows stay pending, due, in the conversation they came from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from alembic import command
from sqlalchemy import JSON, String, column, table, text
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from bot.storage.db import create_engine
from bot.storage.migrate import alembic_config, upgrade_database
from bot.storage.models import UtcDateTime

ROWS = [
    # event id, channel, processed, error
    ("handled", "slack:D1", True, None),
    ("broke", "slack:D1", True, "RuntimeError: boom"),
    ("never", "telegram:42/7", False, None),
]


async def _run(url: str, fn: Any) -> Any:
    engine = create_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            result = await connection.run_sync(fn)
            await connection.commit()
            return result
    finally:
        await engine.dispose()


def _to_0002_with_rows(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "0002")
    inbox = table(
        "inbox",
        column("platform", String()),
        column("event_id", String()),
        column("payload", JSON()),
        column("received_at", UtcDateTime()),
        column("processed_at", UtcDateTime()),
        column("error", String()),
    )
    at = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    for event_id, channel, processed, error in ROWS:
        connection.execute(
            inbox.insert().values(
                platform="slack",
                event_id=event_id,
                payload={"channel": channel, "text": event_id},
                received_at=at,
                processed_at=at + timedelta(seconds=1) if processed else None,
                error=error,
            )
        )


def _inbox(connection: Connection) -> list[tuple[Any, ...]]:
    rows = connection.execute(
        text(
            "SELECT event_id, status, conversation, next_attempt_at IS NOT NULL, attempts"
            " FROM inbox ORDER BY id"
        )
    )
    return [tuple(r) for r in rows]


async def test_existing_inbox_rows_keep_their_meaning(database_url: str) -> None:
    await _run(database_url, _to_0002_with_rows)
    await upgrade_database(database_url)
    assert await _run(database_url, _inbox) == [
        ("handled", "done", "", True, 0),
        ("broke", "failed", "", True, 0),
        ("never", "pending", "telegram:42/7", True, 0),
    ]
