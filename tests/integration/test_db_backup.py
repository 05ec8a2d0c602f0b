"""``helpdesk db backup`` / ``restore`` on SQLite: a backup taken while the desk runs (even in
the middle of someone's write) brings back exactly what was committed, with the schema brought
up to date; bad input is refused in a sentence; PostgreSQL gets the ``pg_dump`` way."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, select
from typer.testing import CliRunner, Result

from bot.cli.db import app
from bot.clock import FrozenClock
from bot.storage.migrate import alembic_config, current_revision, head_revision
from bot.storage.models import Case
from tests.support.desk import Transcript, build_transcript


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'helpdesk.db'}"


@pytest.fixture
async def t(sqlite_url: str, clock: FrozenClock, tmp_path: Path) -> AsyncIterator[Transcript]:
    transcript = await build_transcript(sqlite_url, clock, tmp_path)
    yield transcript
    await transcript.helpdesk.close()


async def helpdesk_db(*args: str) -> Result:
    # in a thread: the commands run their own event loop
    return await asyncio.to_thread(CliRunner().invoke, app, list(args))


async def cases(t: Transcript) -> list[tuple[int, str, str]]:
    async with t.helpdesk.sessions() as s:
        rows = await s.scalars(select(Case).order_by(Case.id))
        return [(c.id, c.status, c.subject) for c in rows]


async def test_a_backup_taken_while_the_desk_runs_restores_what_was_committed(
    t: Transcript, sqlite_url: str, tmp_path: Path
) -> None:
    await t.say("I need a human")
    await t.say("my hub is dead")
    committed = await cases(t)
    assert committed == [(1, "new", "my hub is dead")]

    # someone is in the middle of a write: the backup neither waits for it nor includes it
    writer = sqlite3.connect(tmp_path / "helpdesk.db")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE cases SET subject = 'half-written' WHERE id = 1")
    backup_file = tmp_path / "backups" / "desk.db"
    made = await helpdesk_db("backup", str(backup_file), "--url", sqlite_url, "--json")
    writer.rollback()
    writer.close()
    assert made.exit_code == 0, made.output
    assert json.loads(made.output)["bytes"] == backup_file.stat().st_size > 0

    await t.agent("claim 1")
    await t.agent("resolve 1")
    await t.say("I need a human", channel=t.customer.in_thread("2"), user_id="bea")
    await t.say("the app crashes", channel=t.customer.in_thread("2"), user_id="bea")
    assert [c[:2] for c in await cases(t)] == [(1, "resolved"), (2, "new")]
    await t.helpdesk.close()

    restored = await helpdesk_db("restore", str(backup_file), "--url", sqlite_url, "--yes")
    assert restored.exit_code == 0, restored.output
    assert f"restored from {backup_file}" in restored.output
    assert await cases(t) == committed
    assert await current_revision(sqlite_url) == head_revision()


async def test_a_backup_from_an_older_version_is_restored_and_migrated(
    t: Transcript, sqlite_url: str, tmp_path: Path
) -> None:
    await t.say("I need a human")
    await t.say("my hub is dead")
    backup_file = tmp_path / "older.db"
    assert (await helpdesk_db("backup", str(backup_file), "--url", sqlite_url)).exit_code == 0
    with create_engine(f"sqlite:///{backup_file}").begin() as connection:  # as an older release
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "-1")
    await t.helpdesk.close()

    restored = await helpdesk_db("restore", str(backup_file), "--url", sqlite_url, "--yes")
    assert restored.exit_code == 0, restored.output
    assert f"-> {head_revision()}" in restored.output
    assert await current_revision(sqlite_url) == head_revision()
    assert await cases(t) == [(1, "new", "my hub is dead")]


async def test_bad_backups_and_targets_are_refused_in_a_sentence(
    t: Transcript, sqlite_url: str, tmp_path: Path
) -> None:
    await t.say("hello")
    existing = tmp_path / "taken.db"
    existing.write_text("my notes")
    refused = await helpdesk_db("backup", str(existing), "--url", sqlite_url)
    assert refused.exit_code == 2 and "already exists" in refused.output
    assert existing.read_text() == "my notes"

    refused = await helpdesk_db("restore", str(existing), "--url", sqlite_url, "--yes")
    assert refused.exit_code == 2 and "is not a help desk database" in refused.output
    refused = await helpdesk_db("restore", str(tmp_path / "nowhere.db"), "--url", sqlite_url)
    assert refused.exit_code == 2 and "no such file" in refused.output

    newer = tmp_path / "newer.db"
    assert (await helpdesk_db("backup", str(newer), "--url", sqlite_url)).exit_code == 0
    with sqlite3.connect(newer) as db:
        db.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    db.close()
    refused = await helpdesk_db("restore", str(newer), "--url", sqlite_url, "--yes")
    assert refused.exit_code == 2 and "9999_from_the_future" in refused.output
    assert await current_revision(sqlite_url) == head_revision()  # the database left alone


async def test_a_restore_asks_first_and_a_no_changes_nothing(
    t: Transcript, sqlite_url: str, tmp_path: Path
) -> None:
    backup_file = tmp_path / "empty.db"
    assert (await helpdesk_db("backup", str(backup_file), "--url", sqlite_url)).exit_code == 0
    await t.say("I need a human")
    await t.say("my hub is dead")
    declined = await asyncio.to_thread(
        CliRunner().invoke, app, ["restore", str(backup_file), "--url", sqlite_url], input="n\n"
    )
    assert declined.exit_code == 1 and "Stop the desk first" in declined.output
    assert await cases(t) == [(1, "new", "my hub is dead")]


def test_postgresql_is_pointed_to_pg_dump(tmp_path: Path) -> None:
    url = "postgresql://desk:secret@db.example:5432/helpdesk"
    for args in (["backup", str(tmp_path / "b.db")], ["restore", str(tmp_path / "b.db")]):
        result = CliRunner().invoke(app, [*args, "--url", url])
        assert result.exit_code == 2
        assert "pg_dump --format=custom" in result.output and "pg_restore" in result.output
        assert "secret" not in result.output
    assert not (tmp_path / "b.db").exists()
