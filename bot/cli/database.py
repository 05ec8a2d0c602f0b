"""Opening the configured database (migrated to the current schema) for CLI commands."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


@asynccontextmanager
async def open_database() -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    from bot.config import Settings
    from bot.storage.db import create_engine, session_factory
    from bot.storage.migrate import upgrade_database

    url = Settings().effective_database_url
    await upgrade_database(url)
    engine = create_engine(url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()
