"""Schema migrations with Alembic, configured in code so they run from any directory (also after
``pip install -e .``; no ``alembic.ini`` or working directory is needed).

::

    await upgrade_database(url)    # bring the schema to head; idempotent, call it on every start
    await current_revision(url)    # the revision a database is at (None: never migrated)
    head_revision()                # the newest revision shipped with the code

``helpdesk db upgrade`` / ``helpdesk db current`` do the same from the command line.

Changing the schema
-------------------
After editing ``bot/storage/models.py``, generate the next revision from the models::

    python -m bot.storage.migrate revision -m "add widgets"

It upgrades a throwaway SQLite database to head, autogenerates the difference between that schema
and the models into ``bot/storage/migrations/versions/`` and tidies the file with ruff. Review it
by hand (renames, server defaults and data moves are not detected; SQLite alterations use batch
mode), move ``SHIPPED_HEAD`` to its id, then run ``tests/integration/test_migrations.py`` on both
backends: it fails while the migrated schema and the models differ. To regenerate the initial
revision from scratch (only while no database anywhere is at it), delete
``versions/0001_initial.py`` and run::

    python -m bot.storage.migrate revision -m "initial schema" --rev-id 0001

Other sub-commands: ``upgrade URL``, ``current URL``, ``heads``. Alembic's own command line works
too: ``alembic -c bot/storage/alembic.ini history``.

Concurrency: several processes (web, worker, scheduler) may start at once. On PostgreSQL the
upgrade runs in one transaction under an advisory lock; on SQLite under ``BEGIN IMMEDIATE``. The
loser waits, then finds the schema at head and does nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from bot.storage.db import create_engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

SHIPPED_HEAD = "0014"
"""The newest revision in ``migrations/versions`` (``test_migrations`` checks the two agree). A
database already at it is recognised by one read, without loading Alembic and its scripts: that
is most of a start's database check (about 0.2 s of ``helpdesk chat``'s first answer)."""

# pg_advisory_xact_lock key: any constant that no other code of ours uses ("helpdesk" in ASCII).
_PG_LOCK_KEY = 0x68656C7064657368


def alembic_config(url: str | None = None) -> Config:
    """An Alembic configuration pointing at the bundled migrations (and ``url``, if given)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("version_locations", str(MIGRATIONS_DIR / "versions"))
    config.set_main_option("path_separator", "os")
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str | None:
    """The newest revision shipped with the code, as Alembic reads it from the scripts."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def upgrade_database(url: str) -> None:
    """Upgrade the database at ``url`` to the newest revision. Safe to call on every start: a
    database already at head is left untouched."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            if await connection.run_sync(revision_of) == SHIPPED_HEAD:
                return
            await connection.rollback()  # the upgrade takes its lock in a transaction of its own
            await connection.run_sync(_upgrade)
            await connection.commit()
    finally:
        await engine.dispose()


def _upgrade(connection: Connection) -> None:
    from alembic import command

    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    elif connection.dialect.name == "sqlite":
        # The driver does not open a transaction for DDL on its own; take the write lock first so
        # that a second process waits here instead of creating the same tables.
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def current_revision(url: str) -> str | None:
    """The revision the database at ``url`` is at; ``None`` when it was never migrated."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(revision_of)
    finally:
        await engine.dispose()


def revision_of(connection: Connection) -> str | None:
    """The revision of an open (sync-facing) connection, for use inside ``run_sync``: what Alembic
    records in its version table, read without loading Alembic."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    revisions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    if len(revisions) > 1:  # branches: this project's history is one line
        raise RuntimeError(f"the database is at several revisions: {', '.join(revisions)}")
    return revisions[0] if revisions else None


def make_revision(message: str, *, rev_id: str | None = None) -> list[Path]:
    """Autogenerate a revision: the difference between the migrated schema and the models."""
    from alembic import command

    with tempfile.TemporaryDirectory(prefix="helpdesk-migrate-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'autogenerate.db'}"
        asyncio.run(upgrade_database(url))
        scripts = command.revision(
            alembic_config(url), message=message, autogenerate=True, rev_id=rev_id
        )
    if scripts is None:
        return []
    items = scripts if isinstance(scripts, list) else [scripts]
    paths = [Path(script.path) for script in items if script is not None]
    for path in paths:
        _tidy(path)
    ruff = shutil.which("ruff")
    if ruff and paths:
        subprocess.run([ruff, "format", "--quiet", *map(str, paths)], check=False)
        subprocess.run([ruff, "check", "--fix", "--quiet", *map(str, paths)], check=False)
    return paths


def _tidy(path: Path) -> None:
    """Drop Alembic's "please adjust" banners and fold its one-argument-per-line foreign keys, so
    the formatted script reads like hand-written code."""
    source = path.read_text(encoding="utf-8")
    source = re.sub(
        r"\n *# ### (commands auto generated by Alembic.*|end Alembic commands) ###\n", "\n", source
    )
    # Alembic renders "sa.ForeignKeyConstraint(['a'], ['t.id'], )"; the stray comma would make
    # the formatter spread it over four lines.
    source = re.sub(r"(sa\.ForeignKeyConstraint\([^()]*?),\s*\)", r"\1)", source)
    path.write_text(source, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.storage.migrate", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    rev = sub.add_parser("revision", help="autogenerate a revision from the models")
    rev.add_argument("-m", "--message", required=True)
    rev.add_argument("--rev-id", default=None)
    up = sub.add_parser("upgrade", help="upgrade a database to head")
    up.add_argument("url")
    cur = sub.add_parser("current", help="print a database's revision")
    cur.add_argument("url")
    sub.add_parser("heads", help="print the newest revision")
    args = parser.parse_args(argv)

    if args.command == "revision":
        for path in make_revision(args.message, rev_id=args.rev_id):
            print(path)
    elif args.command == "upgrade":
        asyncio.run(upgrade_database(args.url))
        print(asyncio.run(current_revision(args.url)))
    elif args.command == "current":
        print(asyncio.run(current_revision(args.url)))
    else:
        print(head_revision())
    return 0


if __name__ == "__main__":
    sys.exit(main())
