"""``helpdesk kb``: import (a folder of Markdown or a CSV / XLSX spreadsheet), list, search and
reindex the knowledge base.

torch, faiss and the database drivers are imported inside the commands, so ``helpdesk --help``
stays instant.
"""

from __future__ import annotations

import asyncio
import errno
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, cast

import typer

from bot.cli.boundary import CommandGroup

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from bot.config import Settings
    from bot.knowledge.importer import ImportReport

app = typer.Typer(
    help="The knowledge base: import articles, list them, search, rebuild the index.",
    no_args_is_help=True,
    cls=CommandGroup,
)

T = TypeVar("T")


def _settings() -> Settings:
    from bot.config import Settings

    return Settings()


def _run(work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    """Open the database (migrated to the current schema), run ``work``, dispose of it."""
    from bot.cli.database import open_database

    async def main() -> T:
        async with open_database() as sessions:
            return await work(sessions)

    return asyncio.run(main())


def _progress(done: int, total: int, label: str) -> None:
    typer.echo(f"\r{label}: {done}/{total}", nl=done >= total, err=True)


def _embedder() -> Any:
    from nlu.embedding import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


@app.command("import")
def import_(
    source: Annotated[
        Path | None,
        typer.Argument(
            help="A folder of .md articles, or a .csv / .xlsx spreadsheet of questions and "
            "answers (default: <data dir>/articles)."
        ),
    ] = None,
    prune: Annotated[
        bool, typer.Option(help="Delete articles whose files are gone (folders only).")
    ] = False,
    reindex: Annotated[bool, typer.Option(help="Rebuild the search index afterwards.")] = True,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Show what would be added, changed or skipped; change nothing."
        ),
    ] = False,
) -> None:
    """Import (upsert) articles from Markdown files with front matter or from a spreadsheet."""
    from bot.clock import SystemClock
    from bot.knowledge.importer import import_articles
    from bot.knowledge.service import reindex as rebuild
    from bot.knowledge.sheet_import import import_sheet
    from bot.knowledge.spreadsheet import SHEET_SUFFIXES

    settings = _settings()
    path = (source or settings.articles_dir).expanduser()
    is_sheet = path.is_file() and path.suffix.lower() in SHEET_SUFFIXES
    if not (is_sheet or path.is_dir()):  # before the database is opened: the path is what to fix
        missing = not path.exists()
        error = FileNotFoundError if missing else NotADirectoryError
        raise error(
            errno.ENOENT if missing else errno.ENOTDIR,
            "no folder of articles or .csv / .xlsx spreadsheet",
            str(path),
        )
    if is_sheet and prune:
        raise typer.BadParameter("--prune is for folders of articles", param_hint="--prune")

    async def work(sessions: async_sessionmaker[AsyncSession]) -> ImportReport:
        rows: dict[str, int] = {}
        async with sessions() as session:
            if is_sheet:
                report, sheet = await import_sheet(
                    session, path.resolve(), SystemClock(), dry_run=dry_run
                )
                rows = {a.slug: a.row for a in sheet.articles}
                for note in sheet.notes:
                    typer.echo(f"note: {note}", err=True)
                if sheet.blank_rows:
                    typer.echo(f"note: {sheet.blank_rows} blank row(s) skipped", err=True)
            else:
                report = await import_articles(
                    session, path, SystemClock(), prune=prune, dry_run=dry_run
                )
            if dry_run:
                await session.rollback()
            else:
                await session.commit()
        for error in report.errors:
            typer.echo(f"skipped {error}", err=True)
        if dry_run:
            for line in _plan(report, rows):
                typer.echo(line)
            typer.echo("dry run, nothing changed: " + report.summary())
            return report
        typer.echo(report.summary())
        if reindex:
            built = await rebuild(
                sessions,
                _embedder(),
                settings.index_dir,
                progress=_progress,
                flat_below=settings.index_flat_below,
            )
            typer.echo(f"index: {built.entries} entries, {built.encoded} encoded")
        return report

    report = _run(work)
    if report.errors and not (report.added or report.updated or report.unchanged):
        raise typer.Exit(code=1)


def _plan(report: ImportReport, rows: dict[str, int]) -> list[str]:
    """A dry run's lines: what each article would undergo, and why."""

    def where(slug: str) -> str:
        return f" (row {rows[slug]})" if slug in rows else ""

    lines = [f"would add {slug}{where(slug)}" for slug in report.added]
    lines += [
        f"would change {slug}{where(slug)}: {', '.join(report.changes.get(slug, []))}"
        for slug in report.updated
    ]
    lines += [f"unchanged {slug}{where(slug)}" for slug in report.unchanged]
    lines += [f"would remove {slug}: its file is gone" for slug in report.removed]
    return lines


@app.command("list")
def list_(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List the articles in the database."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from bot.storage.models import Article

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
        async with sessions() as session:
            articles = await session.scalars(
                select(Article).options(selectinload(Article.chunks)).order_by(Article.slug)
            )
            return [
                {
                    "slug": a.slug,
                    "title": a.title,
                    "category": a.category,
                    "tags": a.tags,
                    "questions": len(a.questions or []),
                    "chunks": len(a.chunks),
                    "updated_at": a.updated_at.isoformat(),
                    "source_path": a.source_path,
                }
                for a in articles
            ]

    rows = _run(work)
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("slug", "title", "category", "chunks", "questions")
    for row in rows:
        table.add_row(
            row["slug"], row["title"], row["category"], str(row["chunks"]), str(row["questions"])
        )
    Console().print(table)
    if not rows:
        typer.echo("No articles yet: run 'helpdesk kb import'.", err=True)


@app.command("search")
def search(
    text: Annotated[str, typer.Argument(help="What a customer might write.")],
    k: Annotated[int, typer.Option("--k", "-k", help="How many articles.")] = 5,
    mode: Annotated[str, typer.Option(help="hybrid, dense or lexical.")] = "hybrid",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Search the knowledge base (imports and indexes the bundled articles on first use)."""
    from dataclasses import asdict

    from bot.clock import SystemClock
    from bot.knowledge.search import SearchMode, configured_search
    from bot.knowledge.service import ensure_ready

    if mode not in ("hybrid", "dense", "lexical"):
        raise typer.BadParameter("use hybrid, dense or lexical", param_hint="--mode")
    settings = _settings()
    embedder = _embedder()
    _run(
        lambda sessions: ensure_ready(
            sessions,
            embedder,
            articles_dir=settings.articles_dir,
            index_dir=settings.index_dir,
            clock=SystemClock(),
            progress=_progress,
            flat_below=settings.index_flat_below,
        )
    )
    search_mode = cast("SearchMode", mode)
    hits = configured_search(settings).search(text, embedder, k, mode=search_mode)
    if as_json:
        typer.echo(json.dumps([asdict(h) for h in hits], indent=2, ensure_ascii=False))
        return
    if not hits:
        typer.echo("No matching articles.")
    for hit in hits:
        typer.echo(f"{hit.rank}. {hit.score:.3f}  {hit.title}  [{hit.reference}]")
        typer.echo("   " + hit.snippet.replace("\n", "\n   "))


@app.command("reindex")
def reindex() -> None:
    """Rebuild the search index from the database (only new or changed texts are encoded)."""
    from bot.knowledge.index import IndexBuildReport
    from bot.knowledge.service import reindex as rebuild

    settings = _settings()

    async def work(sessions: async_sessionmaker[AsyncSession]) -> IndexBuildReport:
        return await rebuild(
            sessions,
            _embedder(),
            settings.index_dir,
            progress=_progress,
            flat_below=settings.index_flat_below,
        )

    report = _run(work)
    typer.echo(
        f"index: {report.entries} entries ({report.encoded} encoded, {report.reused} reused) "
        f"with {report.model_name} in {report.index_dir}"
    )
