"""``helpdesk kb import faq.csv|faq.xlsx``: a spreadsheet upserted into the knowledge base and its
search index, idempotently, with a dry run that changes nothing and says what it would do."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from bot.cli import app
from bot.clock import FrozenClock
from bot.knowledge.importer import ImportReport, import_articles
from bot.knowledge.sheet_import import import_sheet
from bot.storage.models import Article

MESSY = Path(__file__).parents[1] / "fixtures" / "faq_import" / "messy.csv"
SLUGS = [
    "when-are-you-open",
    "how-much-is-a-puncture-repair",
    "can-i-book-a-service",
    "do-you-fix-e-bikes",
]
runner = CliRunner()


async def run_import(
    sessions: async_sessionmaker[AsyncSession], path: Path, *, dry_run: bool = False
) -> ImportReport:
    async with sessions() as session:
        report, _ = await import_sheet(session, path, FrozenClock(), dry_run=dry_run)
        await (session.rollback() if dry_run else session.commit())
    return report


async def stored(sessions: async_sessionmaker[AsyncSession]) -> dict[str, tuple[str, ...]]:
    async with sessions() as session:
        articles = await session.scalars(select(Article).order_by(Article.slug))
        return {a.slug: (a.title, a.body, *a.questions, *a.tags, a.content_hash) for a in articles}


async def test_a_sheet_is_imported_once_and_again_changes_nothing(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    sheet = tmp_path / "faq.csv"
    shutil.copyfile(MESSY, sheet)

    first = await run_import(sessions, sheet)
    after_first = await stored(sessions)
    again = await run_import(sessions, sheet)

    assert first.added == SLUGS
    assert [e.reason for e in first.errors] == [
        "duplicate: same question as row 4",
        "empty: the row has no answer",
        "empty: the row has no question",
        "duplicate: same question as row 12",
    ]
    assert (
        str(first.errors[1]) == f"{sheet}, row 9, column 'RESPONSE': empty: the row has no answer"
    )
    assert (again.added, again.updated, again.unchanged) == ([], [], SLUGS)
    assert await stored(sessions) == after_first


async def test_an_edited_answer_updates_only_its_article_and_says_what_changed(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    sheet = tmp_path / "faq.csv"
    shutil.copyfile(MESSY, sheet)
    await run_import(sessions, sheet)
    text = MESSY.read_text(encoding="utf-8")
    sheet.write_text(text.replace("Services take a day.", "Services take two days."), "utf-8")

    plan = await run_import(sessions, sheet, dry_run=True)
    unchanged_yet = await stored(sessions)
    done = await run_import(sessions, sheet)

    assert (plan.updated, plan.changes) == (
        ["can-i-book-a-service"],
        {"can-i-book-a-service": ["answer"]},
    )
    assert "Services take a day." in unchanged_yet["can-i-book-a-service"][1]
    assert done.updated == ["can-i-book-a-service"]
    assert "Services take two days." in (await stored(sessions))["can-i-book-a-service"][1]


async def test_a_workbook_imports_like_its_csv(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    workbook = Workbook()
    workbook.active.append(["FAQ question", "Other questions", "Response"])
    workbook.active.append(["Do you deliver?", "delivery|shipping", "<p>Yes, in <b>town</b>.</p>"])
    workbook.active.append([None, None, None])
    workbook.active.append(["Do you deliver?", None, "Twice."])
    workbook.save(tmp_path / "faq.xlsx")

    report = await run_import(sessions, tmp_path / "faq.xlsx")

    assert report.added == ["do-you-deliver"]
    assert [str(e) for e in report.errors] == [
        f"{tmp_path / 'faq.xlsx'}, row 4, column 'FAQ question': duplicate: same question as row 2"
    ]
    title, body, *rest = (await stored(sessions))["do-you-deliver"]
    assert (title, body, rest[:2]) == (
        "Do you deliver?",
        "Yes, in **town**.",
        ["delivery", "shipping"],
    )


def database_and_index(data_dir: Path) -> tuple[list[str], dict[str, str]]:
    """Everything a dry run must leave alone: every row of every table, every index file."""
    with sqlite3.connect(data_dir / "helpdesk.db") as connection:
        dump = list(connection.iterdump())
    files = {
        str(p.relative_to(data_dir)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((data_dir / "index").rglob("*"))
        if p.is_file()
    }
    return dump, files


@pytest.mark.model
def test_the_command_dry_runs_imports_and_reindexes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "data"
    (data_dir / "articles").mkdir(parents=True)
    (data_dir / "articles" / "gift-cards.md").write_text(
        "---\ntitle: Gift cards\n---\nGift cards never expire.\n", encoding="utf-8"
    )
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("HELPDESK_DATA_DIR", str(data_dir))
    monkeypatch.chdir(tmp_path)  # no helpdesk.yml or .env of the checkout
    folder = runner.invoke(app, ["kb", "import"])  # a folder of Markdown, as before
    assert folder.exit_code == 0, folder.output
    before = database_and_index(data_dir)

    dry = runner.invoke(app, ["kb", "import", str(MESSY), "--dry-run"])

    assert dry.exit_code == 0, dry.output
    assert database_and_index(data_dir) == before
    assert "would add when-are-you-open (row 4)" in dry.output
    assert "skipped" in dry.output and "row 9, column 'RESPONSE'" in dry.output
    assert "dry run, nothing changed: 4 added" in dry.output

    done = runner.invoke(app, ["kb", "import", str(MESSY)])
    again = runner.invoke(app, ["kb", "import", str(MESSY)])

    assert done.exit_code == 0 and "4 added" in done.output, done.output
    assert re.search(r"index: \d+ entries, [1-9]\d* encoded", done.output), done.output
    assert database_and_index(data_dir)[1] != before[1]
    assert again.exit_code == 0 and "0 added, 0 updated, 4 unchanged" in again.output
    assert "index: " in again.output and ", 0 encoded" in again.output
    listed = json.loads(runner.invoke(app, ["kb", "list", "--json"]).stdout)
    assert sorted(a["slug"] for a in listed) == sorted([*SLUGS, "gift-cards"])


async def test_pruning_a_folder_keeps_the_articles_of_a_sheet(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "gift-cards.md").write_text("---\ntitle: Gift cards\n---\nThey never expire.\n")
    await run_import(sessions, MESSY)
    async with sessions() as session:
        pruned = await import_articles(session, folder, FrozenClock(), prune=True)
        await session.commit()

    assert pruned.removed == []
    assert sorted(await stored(sessions)) == sorted([*SLUGS, "gift-cards"])
