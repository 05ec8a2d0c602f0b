"""Migrated test databases without migrating (or creating and dropping) one per test.

Migrating a database takes most of a second, and dropping a PostgreSQL database forces a
checkpoint that takes seconds on a busy machine; hundreds of tests each did both. Instead:

- SQLite: the schema is migrated once into a template file, and each test gets a copy.
- PostgreSQL: a test gets a migrated database from a small pool and, when it ends, the database
  is emptied (every table's rows deleted, sequences restarted, the other connections to it
  ended) and goes back to the pool. A database whose schema the test changed (another
  revision, a table more or less) is dropped instead. The pool's databases are created from a
  template migrated once, and dropped when the session ends.

A test sees exactly what it saw before: a migrated database of its own, with no rows, whose ids
start at 1.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.pg_admin import admin_connection, asyncpg_dsn, with_database


@dataclass
class MigratedDatabases:
    prefix: str  # every database made here starts with it (the test command drops them all)
    base_url: str  # the PostgreSQL server's URL from the test settings
    workdir: Path
    _sqlite_template: Path | None = None
    _pg_template: str | None = None
    _free: list[str] = field(default_factory=list)
    _made: list[str] = field(default_factory=list)
    _head: str | None = None
    _tables: frozenset[str] = frozenset()

    async def sqlite_copy(self, path: Path) -> None:
        """A migrated SQLite database at ``path``."""
        if self._sqlite_template is None:
            from bot.storage.migrate import upgrade_database

            template = self.workdir / "template.db"
            await upgrade_database(f"sqlite:///{template}")
            self._sqlite_template = template
        _copy_sqlite(self._sqlite_template, path)

    async def take_postgres(self) -> str:
        """The name of an empty, migrated PostgreSQL database for one test."""
        if self._free:
            return self._free.pop()
        template = await self._postgres_template()
        name = f"{self.prefix}_{uuid.uuid4().hex[:12]}"
        admin = await admin_connection(self.base_url)
        try:
            await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        finally:
            await admin.close()
        self._made.append(name)
        return name

    async def give_back_postgres(self, name: str) -> None:
        """Empty ``name`` for the next test, or drop it if its schema is not the migrated one."""
        admin = await admin_connection(self.base_url)
        try:
            # a test's own engine, a child process: nothing may hold rows or locks in it
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = $1 AND pid <> pg_backend_pid()",
                name,
            )
        finally:
            await admin.close()
        try:
            if await self._empty(name):
                self._free.append(name)
                return
        except Exception:
            pass
        await self._drop(name)

    async def close(self) -> None:
        for name in [*self._made, *filter(None, [self._pg_template])]:
            await self._drop(name)
        self._free.clear()

    async def _postgres_template(self) -> str:
        if self._pg_template is None:
            from bot.storage.migrate import upgrade_database

            name = f"{self.prefix}_template"
            admin = await admin_connection(self.base_url)
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                await admin.execute(f'CREATE DATABASE "{name}"')
            finally:
                await admin.close()
            await upgrade_database(with_database(self.base_url, name))
            conn = await self._connect(name)
            try:
                self._head = await conn.fetchval("SELECT version_num FROM alembic_version")
                self._tables = frozenset(await _table_names(conn))
            finally:
                await conn.close()
            self._pg_template = name
        return self._pg_template

    async def _empty(self, name: str) -> bool:
        conn = await self._connect(name)
        try:
            head = await conn.fetchval("SELECT version_num FROM alembic_version")
            if head != self._head or frozenset(await _table_names(conn)) != self._tables:
                return False
            sequences = await conn.fetch(
                "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
            )
            statements = [f'DELETE FROM "{table}"' for table in _deletion_order(self._tables)]
            statements += [f'ALTER SEQUENCE "{row[0]}" RESTART' for row in sequences]
            await conn.execute("BEGIN; " + "; ".join(statements) + "; COMMIT")
            return True
        finally:
            await conn.close()

    async def _connect(self, name: str) -> Any:
        import asyncpg

        return await asyncpg.connect(asyncpg_dsn(with_database(self.base_url, name)))

    async def _drop(self, name: str) -> None:
        admin = await admin_connection(self.base_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


def _copy_sqlite(template: Path, path: Path) -> None:
    for suffix in ("", "-wal"):  # no write-ahead log is left once the migration's engine closed
        source = Path(f"{template}{suffix}")
        if source.exists():
            shutil.copyfile(source, f"{path}{suffix}")


async def _table_names(conn: Any) -> list[str]:
    rows = await conn.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        " AND tablename <> 'alembic_version'"
    )
    return [row[0] for row in rows]


def _deletion_order(tables: frozenset[str]) -> list[str]:
    """Children before parents (the models' foreign keys), then anything the models lack."""
    from bot.storage.models import Base

    ordered = [t.name for t in reversed(Base.metadata.sorted_tables) if t.name in tables]
    return ordered + sorted(tables - set(ordered))
