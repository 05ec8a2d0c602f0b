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
from bot.cli.kb_gaps import gaps

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from bot.config import Settings
    from bot.knowledge.importer import ImportReport

app = typer.Typer(
    help="The knowledge base: import articles, list them, search, rebuild the index.",
    no_args_is_help=True,
    cls=CommandGroup,
)

app.command("gaps")(gaps)

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


def _editor() -> Any:
    """Who changes articles from this command line, as the history and audit trail name it."""
    import getpass

    from bot.knowledge.versions import Editor

    return Editor(actor=f"cli:{getpass.getuser()}", platform="cli")


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
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Also overwrite articles changed since their import (in chat: edited, "
            "published, retired or rolled back). Their history keeps the old text.",
        ),
    ] = False,
) -> None:
    """Import (upsert) articles from Markdown files with front matter or from a spreadsheet.

    The database is the source of truth: an article changed since its import is left alone
    and reported, unless --force."""
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
                    session,
                    path.resolve(),
                    SystemClock(),
                    dry_run=dry_run,
                    force=force,
                    editor=_editor(),
                )
                rows = {a.slug: a.row for a in sheet.articles}
                for note in sheet.notes:
                    typer.echo(f"note: {note}", err=True)
                if sheet.blank_rows:
                    typer.echo(f"note: {sheet.blank_rows} blank row(s) skipped", err=True)
            else:
                report = await import_articles(
                    session,
                    path,
                    SystemClock(),
                    prune=prune,
                    dry_run=dry_run,
                    force=force,
                    editor=_editor(),
                )
            if dry_run:
                await session.rollback()
            else:
                await session.commit()
        for error in report.errors:
            typer.echo(f"skipped {error}", err=True)
        for slug, why in sorted(report.conflicts.items()):
            typer.echo(f"left alone {slug}: it {why} (--force overwrites)", err=True)
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
                    "status": a.status,
                    "revision": a.revision,
                    "unpublished_edit": a.draft_revision,
                }
                for a in articles
            ]

    rows = _run(work)
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("slug", "title", "status", "category", "chunks", "questions")
    for row in rows:
        status = row["status"] + (" (edit waiting)" if row["unpublished_edit"] else "")
        table.add_row(
            row["slug"],
            row["title"],
            status,
            row["category"],
            str(row["chunks"]),
            str(row["questions"]),
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


@app.command("export")
def export(
    directory: Annotated[Path, typer.Argument(help="Where to write <slug>.md files.")],
    drafts: Annotated[
        bool, typer.Option("--drafts", help="Also drafts and retired articles (marked status).")
    ] = False,
) -> None:
    """Write the knowledge base as Markdown with front matter, as 'kb import' reads it: the
    database is the source of truth, and this is the way back to files."""
    from bot.knowledge.export import ExportReport, export_articles

    async def work(sessions: async_sessionmaker[AsyncSession]) -> ExportReport:
        async with sessions() as session:
            return await export_articles(session, directory.expanduser(), with_drafts=drafts)

    report = _run(work)
    typer.echo(f"{len(report.written)} article(s) written to {directory}")
    if report.left_out:
        typer.echo(f"left out (--drafts to include): {', '.join(report.left_out)}", err=True)


@app.command("history")
def history(slug: Annotated[str, typer.Argument(help="The article.")]) -> None:
    """An article's revisions: who changed what, when and where."""
    from bot.knowledge.versions import history as revisions

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
        async with sessions() as session:
            return [
                f"{r.number}. {r.at:%Y-%m-%d %H:%M} {r.action} ({r.status}) by {r.actor} "
                f"[{r.platform}] {', '.join(r.changes or [])}".rstrip()
                for r in await revisions(session, slug)
            ]

    for line in _lifecycle(work):
        typer.echo(line)


@app.command("publish")
def publish(slug: Annotated[str, typer.Argument(help="The article.")]) -> None:
    """Publish a draft (or an article's waiting edit); running processes answer with it."""
    from bot.knowledge.versions import publish as put_live

    _change(lambda session, at: put_live(session, slug, _editor(), at), f"published {slug}")


@app.command("retire")
def retire(slug: Annotated[str, typer.Argument(help="The article.")]) -> None:
    """Stop answering with an article (its history is kept)."""
    from bot.knowledge.versions import retire as unpublish

    _change(lambda session, at: unpublish(session, slug, _editor(), at), f"retired {slug}")


@app.command("rollback")
def rollback(
    slug: Annotated[str, typer.Argument(help="The article.")],
    version: Annotated[
        int | None, typer.Argument(help="The revision to restore (default: the previous).")
    ] = None,
) -> None:
    """Publish an earlier revision's text again, as a new revision."""
    from bot.knowledge.versions import rollback as restore

    _change(
        lambda session, at: restore(session, slug, _editor(), at, to=version),
        f"rolled back {slug}",
    )


def _change(change: Callable[[AsyncSession, Any], Awaitable[object]], done: str) -> None:
    from bot.clock import SystemClock

    async def work(sessions: async_sessionmaker[AsyncSession]) -> object:
        async with sessions() as session:
            result = await change(session, SystemClock().now())
            await session.commit()
            return result

    result = _lifecycle(work)
    typer.echo(f"{done} (revision {result[0] if isinstance(result, tuple) else result})")


def _lifecycle(work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    """Run a lifecycle command; a refused change is a clear error, not a traceback."""
    from bot.knowledge.versions import ArticleChangeRefused

    try:
        return _run(work)
    except ArticleChangeRefused as exc:
        typer.echo(f"error: {exc.reason.replace('_', ' ')}: {exc.slug} {exc.detail}", err=True)
        raise typer.Exit(code=1) from exc
