"""Small helpers for administering the PostgreSQL test server (create and drop databases)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def asyncpg_dsn(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"postgresql://{rest}" if scheme.startswith("postgres") else url


async def admin_connection(base_url: str) -> Any:
    import asyncpg

    dsn = asyncpg_dsn(base_url)
    try:
        return await asyncpg.connect(dsn)
    except asyncpg.InvalidCatalogNameError:
        # The named database does not exist (yet): administer from the maintenance database.
        return await asyncpg.connect(with_database(dsn, "postgres"))
