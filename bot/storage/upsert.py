"""``INSERT … ON CONFLICT DO NOTHING`` on both backends: first contact (a customer's identity,
a conversation's dialog session) from two processes at once creates one row, and the loser
reads the winner's instead of failing on the unique constraint."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Base

Row = TypeVar("Row", bound=Base)


async def insert_unless_exists(
    session: AsyncSession, model: type[Base], values: dict[str, Any], *, unique_on: list[str]
) -> bool:
    """Insert a ``model`` row unless one with the same ``unique_on`` columns exists (or is
    being inserted by another transaction: PostgreSQL waits for it). True when inserted."""
    connection = await session.connection()
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(model).values(**values).on_conflict_do_nothing(index_elements=unique_on)
    )
    result = await session.execute(statement)
    return bool(getattr(result, "rowcount", 0))


async def insert_or_none(
    session: AsyncSession, model: type[Row], values: dict[str, Any], *, unique_on: list[str]
) -> Row | None:
    """``insert_unless_exists`` that returns the new row as an object of the session (one
    statement: the insert returns it); None when one with the same ``unique_on`` exists."""
    connection = await session.connection()
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(model)
        .values(**values)
        .on_conflict_do_nothing(index_elements=unique_on)
        .returning(model)
    )
    return await session.scalar(statement)
