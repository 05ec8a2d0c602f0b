"""``helpdesk intent`` and ``helpdesk nlu export`` on the database, the intents' source of
truth: a first use loads the business's files, changes made on the command line are what the
export writes (actions as Rasa metadata), every change is in the audit trail, and files that
changed since they were loaded are noticed, and taken in by ``helpdesk intent import``."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from bot.cli import app
from bot.intents.sources import warn_if_files_changed
from bot.storage.models import AuditEntry
from nlu.training_data import parse_training_yaml

BAKERY = Path(__file__).parents[1] / "fixtures" / "bakery"


async def helpdesk(url: str, data_dir: Path, *args: str, code: int = 0) -> str:
    env = {"DATABASE_URL": url, "HELPDESK_DATA_DIR": str(data_dir)}
    result = await asyncio.to_thread(CliRunner().invoke, app, list(args), env=env)
    assert result.exit_code == code, result.output
    return str(result.stdout)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    shutil.copytree(BAKERY, tmp_path / "bakery")
    return tmp_path / "bakery"


async def test_changes_on_the_command_line_are_what_the_export_writes(
    migrated_url: str, data_dir: Path, sessions: async_sessionmaker[AsyncSession]
) -> None:
    listing = json.loads(await helpdesk(migrated_url, data_dir, "intent", "list", "--json"))
    names = [row["name"] for row in listing[:-1]]
    assert names[:2] == ["allergens", "cake_order"] and "greet" in names  # seeded from the files
    await helpdesk(migrated_url, data_dir, "intent", "create", "lunch_menu")
    said = await helpdesk(
        migrated_url, data_dir, "intent", "add", "lunch_menu", "a sandwich for lunch",
        "is there soup today", "--no-train",
    )  # fmt: skip
    assert said.startswith("added 2 examples to lunch_menu")
    await helpdesk(migrated_url, data_dir, "intent", "action", "lunch_menu", "say", "Soup!")
    await helpdesk(migrated_url, data_dir, "intent", "remove", "allergens", "do you use sesame",
                   "--no-train")  # fmt: skip
    await helpdesk(migrated_url, data_dir, "intent", "retire", "cake_order", "--no-train")

    exported = parse_training_yaml(await helpdesk(migrated_url, data_dir, "nlu", "export"))
    assert exported.texts("lunch_menu") == ["a sandwich for lunch", "is there soup today"]
    assert exported.intent_metadata["lunch_menu"] == {"action": {"say": "Soup!"}}
    assert "do you use sesame" not in exported.texts("allergens")
    assert "cake_order" not in exported.intents
    assert "greet" in exported.intents  # the dialog's own, for a Rasa assistant to train on too
    async with sessions() as s:
        entries = (await s.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
    assert all(e.actor.startswith("cli:") and e.platform == "cli" for e in entries[-5:])
    assert [e.action for e in entries[-5:]] == [
        "intent.create",
        "intent.examples.add",
        "intent.action",
        "intent.examples.remove",
        "intent.retire",
    ]


async def test_the_dialogs_own_intents_are_refused_on_the_command_line_too(
    migrated_url: str, data_dir: Path
) -> None:
    await helpdesk(migrated_url, data_dir, "intent", "retire", "greet", code=2)


async def test_files_changed_since_they_were_loaded_are_noticed_and_imported(
    migrated_url: str,
    data_dir: Path,
    sessions: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
) -> None:
    await helpdesk(migrated_url, data_dir, "intent", "list")  # the first use loads the files
    topics = data_dir / "nlu" / "topics.yml"
    topics.write_text(
        topics.read_text(encoding="utf-8")
        + "- intent: opening_hours\n  metadata: {action: {say: 'We open at 7.'}}\n"
        "  examples: |\n    - when do you open\n    - are you open on sunday\n",
        encoding="utf-8",
    )
    with caplog.at_level(logging.WARNING, logger="bot.intents.sources"):
        async with sessions() as s:
            assert await warn_if_files_changed(s, data_dir / "nlu")
    assert "helpdesk intent import" in caplog.text
    said = await helpdesk(migrated_url, data_dir, "intent", "import", "--no-train")
    assert said.startswith("imported 1 new intents and 2 new examples")
    async with sessions() as s:
        assert not await warn_if_files_changed(s, data_dir / "nlu")
    shown = await helpdesk(migrated_url, data_dir, "intent", "show", "opening_hours")
    assert shown.splitlines()[0] == 'opening_hours: says "We open at 7."'
