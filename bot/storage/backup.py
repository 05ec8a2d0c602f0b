"""Backups of the SQLite database with SQLite's online backup API.

``backup`` copies a consistent snapshot while the desk keeps running (in WAL mode readers and
the writer do not block each other; the copy is made in one step, so it is one moment's
state). ``restore`` copies a backup back over the database — with the desk stopped — after
checking that the file is a sound help desk database that this version of the code knows.
PostgreSQL has its own tools (``pg_dump`` / ``pg_restore``); ``PG_DUMP_ADVICE`` says how.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from alembic.script import ScriptDirectory

from bot.errors import HelpdeskError
from bot.storage.db import async_database_url, is_sqlite
from bot.storage.migrate import alembic_config

PG_DUMP_ADVICE = """\
helpdesk db backup and restore work on SQLite. For PostgreSQL use its own tools, which copy a
running database consistently too:

  pg_dump --format=custom --file=helpdesk.dump "$DATABASE_URL"
  pg_restore --clean --if-exists --no-owner --dbname="$DATABASE_URL" helpdesk.dump
  helpdesk db upgrade

(stop the desk before pg_restore; the last line brings an older dump's schema up to date)."""


class BackupRefused(HelpdeskError):
    """A backup or restore that would not do what was asked; the message says why."""


def sqlite_path(url: str) -> Path:
    """The database file of a SQLite URL; ``BackupRefused`` with the PostgreSQL way otherwise."""
    if not is_sqlite(url):
        raise BackupRefused(PG_DUMP_ADVICE)
    path = async_database_url(url).partition(":///")[2]
    if not path or path == ":memory:":
        raise BackupRefused("an in-memory SQLite database has nothing on disk to back up")
    return Path(path)


def backup(database: Path, target: Path) -> None:
    """Copy ``database`` into the new file ``target`` (never over an existing one)."""
    if not database.is_file():
        raise BackupRefused(f"{database}: no database there")
    if target.exists():
        raise BackupRefused(f"{target} already exists; choose a new file for the backup")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with _connection(database) as source, _connection(target) as copy:
            source.backup(copy)  # one step: a consistent snapshot
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    except BaseException:
        target.unlink(missing_ok=True)  # no half-written backup left to trust
        raise


def restore(backup_file: Path, database: Path) -> str:
    """Replace ``database``'s contents with ``backup_file``'s; returns the backup's schema
    revision (the caller migrates from there to the code's head)."""
    revision = check_backup(backup_file)
    database.parent.mkdir(parents=True, exist_ok=True)
    with _connection(backup_file, read_only=True) as source, _connection(database) as live:
        source.backup(live)
    return revision


def check_backup(backup_file: Path) -> str:
    """The schema revision of a sound help desk backup; ``BackupRefused`` saying what is wrong
    otherwise."""
    if not backup_file.is_file():
        raise BackupRefused(f"{backup_file}: no such file")
    try:
        with _connection(backup_file, read_only=True) as db:
            verdict = db.execute("PRAGMA quick_check").fetchone()[0]
            if verdict != "ok":
                raise BackupRefused(f"{backup_file} is damaged: {verdict}")
            row = db.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as error:  # not a database, or no alembic_version table
        raise BackupRefused(f"{backup_file} is not a help desk database ({error})") from error
    if row is None:
        raise BackupRefused(f"{backup_file} is not a help desk database (no schema revision)")
    revision = str(row[0])
    try:
        ScriptDirectory.from_config(alembic_config()).get_revision(revision)
    except Exception as error:  # the backup comes from a newer version of the help desk
        raise BackupRefused(
            f"{backup_file} is at schema revision {revision}, which this version of the help "
            "desk does not know: restore it with the version that wrote it"
        ) from error
    return revision


@contextlib.contextmanager
def _connection(path: Path, *, read_only: bool = False) -> Iterator[sqlite3.Connection]:
    if read_only:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    else:
        connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA busy_timeout=30000")  # wait out a writer's lock
        yield connection
    finally:
        connection.close()
