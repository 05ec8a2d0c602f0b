"""Opening the configured database (migrated to the current schema) for CLI commands.

Every command reaches the database first through :func:`ready_database`, which turns the many
ways a database can be out of reach (a bad URL, a server that is down, a missing database, a
schema from a newer release) into one :class:`~bot.errors.DatabaseUnavailable` naming the URL
and the reason, so the command line can say so in a sentence instead of a traceback.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


def display_url(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # unparsable: show only the scheme, which may not hold a password
        return url.partition("://")[0] + "://…" if "://" in url else repr(url)


def _reason(exc: BaseException) -> str:
    """The driver's own words, without SQLAlchemy's wrapping and background link."""
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, DBAPIError) and exc.orig is not None:
        exc = exc.orig
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "no such host"
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror.lower()}{where}"
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text.removeprefix("(sqlalchemy.dialects.postgresql.asyncpg.Error) ")


def _parse(url: str) -> None:
    """A URL that cannot even be parsed is a setting to fix, not a server to check."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from bot.errors import ConfigError
    from bot.storage.db import async_database_url

    try:
        parsed = make_url(async_database_url(url))  # ConfigError names an unknown scheme
        _ = parsed.port  # a port that is not a number fails only when read
    except (ArgumentError, ValueError) as exc:
        raise ConfigError(
            f"DATABASE_URL: {display_url(url)} is not a database URL "
            "(use sqlite:///path/to/file.db or postgresql://user@host:5432/name)"
        ) from exc


def _advice(url: str) -> str:
    if url.lower().startswith("sqlite"):
        return "check DATABASE_URL (or HELPDESK_DATA_DIR) and that its folder can be written"
    return "check DATABASE_URL and that the database server is running"


async def ready_database(url: str) -> None:
    """Bring the database at ``url`` to the current schema, or raise ``DatabaseUnavailable``."""
    from bot.storage.migrate import upgrade_database

    with database_errors(url):
        await upgrade_database(url)


@contextmanager
def database_errors(url: str) -> Iterator[None]:
    """Around a first use of the database at ``url``: failures to reach it, open it or bring it
    to the current schema become ``DatabaseUnavailable`` (a bad URL, ``ConfigError``)."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.errors import DatabaseUnavailable

    _parse(url)
    try:
        yield
    except Exception as exc:
        if _is_migration_error(exc):  # e.g. a revision this release does not know
            raise DatabaseUnavailable(
                f"the database {display_url(url)} has a schema this version cannot use ({exc}); "
                "point DATABASE_URL at another database or install the newer release"
            ) from exc
        if isinstance(exc, (SQLAlchemyError, OSError)):
            raise DatabaseUnavailable(
                f"cannot open the database {display_url(url)} ({_reason(exc)}); {_advice(url)}"
            ) from exc
        raise


def _is_migration_error(exc: Exception) -> bool:
    """An error of Alembic's commands. Alembic loads only when a database is not at the shipped
    head; when it never loaded, the error cannot be one of its own (and a start that finds the
    database current does not pay for loading it here)."""
    errors = sys.modules.get("alembic.util.exc")
    return errors is not None and isinstance(exc, errors.CommandError)


@asynccontextmanager
async def open_database() -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    from bot.config import Settings
    from bot.storage.db import create_engine, session_factory

    url = Settings().effective_database_url
    await ready_database(url)
    engine = create_engine(url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()
