"""Import a spreadsheet of questions and answers (``bot.knowledge.spreadsheet``) into the
knowledge base, the way a folder of Markdown is imported: upsert by slug, report what was added,
changed, left unchanged or skipped and why.

A row's slug comes from its title, and its stored text from the row alone, so importing the same
file again changes nothing, and a row whose answer was edited updates only that article.
Articles of the sheet are stored with the sheet's path as their source.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.knowledge.articles import ArticleError, ParsedArticle, parse_article_text
from bot.knowledge.importer import IMPORT, ImportReport, upsert_articles
from bot.knowledge.spreadsheet import SheetArticles, read_sheet
from bot.knowledge.versions import Editor


async def import_sheet(
    session: AsyncSession,
    path: Path,
    clock: Clock,
    *,
    dry_run: bool = False,
    force: bool = False,
    editor: Editor = IMPORT,
) -> tuple[ImportReport, SheetArticles]:
    """Upsert the articles of the spreadsheet at ``path``; the report and what the sheet held.
    Flushes but does not commit; with ``dry_run`` nothing is written. Articles changed since
    their import are left alone (reported as conflicts) unless ``force``."""
    sheet = await asyncio.to_thread(read_sheet, path)
    report = ImportReport()
    if sheet.failed:
        report.errors.append(ArticleError(path, sheet.failed.removeprefix(f"{path}: ")))
        return report, sheet
    for problem in sheet.problems:
        where = f"{path}, row {problem.row}" + (
            f", column '{problem.column}'" if problem.column else ""
        )
        report.errors.append(ArticleError(where, problem.reason))
    parsed: list[ParsedArticle] = []
    for row in sheet.articles:
        try:
            article = parse_article_text(row.markdown.encode("utf-8"), Path(f"{row.slug}.md"))
        except ArticleError as exc:
            report.errors.append(ArticleError(f"{path}, row {row.row}", exc.reason))
            continue
        parsed.append(dataclasses.replace(article, slug=row.slug, source_path=str(path)))
    await upsert_articles(
        session, parsed, clock, report, dry_run=dry_run, force=force, editor=editor
    )
    if not dry_run:
        await session.flush()
    return report, sheet
