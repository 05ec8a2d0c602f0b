"""The Alembic migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from bot.storage.db import create_engine
from bot.storage.migrate import (
    MIGRATIONS_DIR,
    SHIPPED_HEAD,
    alembic_config,
    current_revision,
    head_revision,
    upgrade_database,
)
from bot.storage.models import Base


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection,
        opts={"compare_type": True, "render_as_batch": connection.dialect.name == "sqlite"},
    )
    return list(compare_metadata(context, Base.metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def _run(url: str, fn: Any) -> Any:
    engine = create_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            result = await connection.run_sync(fn)
            await connection.commit()
            return result
    finally:
        await engine.dispose()


async def test_migrated_schema_matches_the_models(database_url: str) -> None:
    await upgrade_database(database_url)
    assert await _run(database_url, _diff) == []


async def test_upgrade_is_idempotent(database_url: str) -> None:
    assert await current_revision(database_url) is None
    await upgrade_database(database_url)
    await upgrade_database(database_url)
    assert await current_revision(database_url) == head_revision()
    tables = await _run(database_url, _tables)
    assert set(Base.metadata.tables) | {"alembic_version"} == tables


async def test_concurrent_upgrades_all_succeed(database_url: str) -> None:
    await asyncio.gather(*(upgrade_database(database_url) for _ in range(3)))
    assert await current_revision(database_url) == head_revision()
    assert await _run(database_url, _diff) == []


async def _downgrade(url: str, target: str) -> None:
    def downgrade(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, target)

    await _run(url, downgrade)


async def test_downgrade_to_base_and_up_again(database_url: str) -> None:
    await upgrade_database(database_url)
    await _downgrade(database_url, "base")
    assert await _run(database_url, _tables) == {"alembic_version"}
    assert await current_revision(database_url) is None
    await upgrade_database(database_url)
    assert await _run(database_url, _diff) == []


async def test_a_database_one_revision_behind_is_upgraded(database_url: str) -> None:
    """A start recognises a database at head without Alembic; anything else still upgrades."""
    await upgrade_database(database_url)
    await _downgrade(database_url, "-1")
    assert await current_revision(database_url) not in (None, head_revision())
    await upgrade_database(database_url)
    assert await current_revision(database_url) == head_revision()
    assert await _run(database_url, _diff) == []


async def test_a_start_on_a_database_at_head_does_not_load_alembic(database_url: str) -> None:
    """What a start does first (``ready_database``) recognises a current schema by one read:
    Alembic and its scripts load only for a database that needs them."""
    await upgrade_database(database_url)
    code = (
        "import asyncio, sys; from bot.cli.database import ready_database; "
        f"asyncio.run(ready_database({database_url!r})); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))"
    )
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
    assert await current_revision(database_url) == head_revision()


def test_one_head_and_revision_scripts_stand_alone() -> None:
    assert head_revision() is not None
    # the start's quick check compares with this constant: a new script must move it
    assert head_revision() == SHIPPED_HEAD
    scripts = sorted((MIGRATIONS_DIR / "versions").glob("*.py"))
    assert scripts, "no revision scripts"
    for script in scripts:
        source = Path(script).read_text(encoding="utf-8")
        # History must not change when the models do: scripts use plain SQLAlchemy types.
        assert not re.search(r"^\s*(from|import)\s+(bot|nlu)\b", source, re.MULTILINE), script
        assert "UtcDateTime" not in source, script


def test_cli_db_upgrade_and_current(tmp_path: Path, monkeypatch: Any) -> None:
    from typer.testing import CliRunner

    from bot.cli.db import app

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()
    result = runner.invoke(app, ["current", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["revision"] is None

    result = runner.invoke(app, ["upgrade"])
    assert result.exit_code == 0, result.output
    assert f"revision {head_revision()}" in result.output
    result = runner.invoke(app, ["upgrade", "--json"])
    assert json.loads(result.output)["revision"] == head_revision()

    result = runner.invoke(app, ["current", "--json"])
    assert json.loads(result.output) | {"database": ""} == {
        "database": "",
        "revision": head_revision(),
        "head": head_revision(),
        "up_to_date": True,
    }

    result = runner.invoke(app, ["current", "--url", "mysql://u:secret@h/db"])
    assert result.exit_code == 2
    assert "unsupported scheme" in result.output and "secret" not in result.output
