"""A search of the whole database: every table, every column, every row, read as text — the
check that erased data is gone wherever it might have been copied."""

from __future__ import annotations

from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine


async def tables(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        return await connection.run_sync(lambda sync: inspect(sync).get_table_names())


async def find_anywhere(engine: AsyncEngine, needles: list[str]) -> list[str]:
    """``table.column (row n): needle`` for every place a needle (case-insensitive) occurs."""
    found = []
    async with engine.connect() as connection:
        for table in await tables(engine):
            result = await connection.execute(text(f'SELECT * FROM "{table}"'))
            columns = list(result.keys())
            for number, row in enumerate(result, start=1):
                for column, value in zip(columns, row, strict=True):
                    stored = str(value).lower() if value is not None else ""
                    found.extend(
                        f"{table}.{column} (row {number}): {needle}"
                        for needle in needles
                        if needle.lower() in stored
                    )
    return found
