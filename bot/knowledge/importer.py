"""Import a directory of article files into the ``articles`` / ``article_chunks`` tables.

Articles are upserted by slug; a changed article gets its chunks replaced. Files that cannot be
parsed are reported in ``ImportReport.errors`` and skipped — one bad file never stops an import.
With ``prune=True`` articles whose files are gone are deleted (an article whose file exists but
is currently malformed is kept, so a typo does not delete it, and articles imported from a
spreadsheet are not files and are kept). ``upsert_articles`` is shared with the spreadsheet
import (``bot.knowledge.sheet_import``); with ``dry_run`` both only report.

The database is the source of truth once an article is in it (``docs/knowledge.md``). An
article changed since the import that wrote it (edited, published, retired or rolled back from
chat, or never imported) is not overwritten: the report lists it under ``conflicts`` and leaves
it as it is, unless ``force`` says to take the file's version. Every article an import adds or
changes gets a revision and bumps the articles content version, so running processes answer
with it without a restart.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.clock import Clock
from bot.knowledge.articles import ArticleError, ParsedArticle, parse_article, slug_from_path
from bot.knowledge.versions import (
    Content,
    Editor,
    changed_since_import,
    content_of,
    record_import,
    stamp_version,
)
from bot.storage.content import ARTICLES, bump_version, record_change
from bot.storage.models import Article, ArticleChunk

IMPORT = Editor(actor="import", platform="cli")

logger = logging.getLogger(__name__)

ARTICLE_SUFFIXES = (".md", ".markdown")
_SKIPPED_NAMES = {"readme.md", "readme.markdown"}


@dataclass
class ImportReport:
    """What an import did, by slug."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    errors: list[ArticleError] = field(default_factory=list)
    changes: dict[str, list[str]] = field(default_factory=dict)  # updated slug → what changed
    # slug → why it was left alone: changed since it was imported (``force`` overwrites)
    conflicts: dict[str, str] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged, {len(self.removed)} removed, "
            f"{len(self.errors)} skipped with errors"
            + (
                f", {len(self.conflicts)} left alone (changed since import; --force overwrites)"
                if self.conflicts
                else ""
            )
        )


def article_files(directory: Path) -> list[Path]:
    """The article files of a directory (not recursive; README and ``_``/``.`` files skipped)."""
    return sorted(
        p
        for p in directory.iterdir()
        if p.is_file()
        and p.suffix.lower() in ARTICLE_SUFFIXES
        and p.name.lower() not in _SKIPPED_NAMES
        and not p.name.startswith(("_", "."))
    )


def read_articles(directory: Path) -> list[tuple[str, ParsedArticle | ArticleError]]:
    """Parse every article file of ``directory``: (slug, article or the reason it failed).

    The slug is "" for an error that belongs to no file (a missing directory).
    """
    if not directory.is_dir():
        return [("", ArticleError(directory, "is not a directory"))]
    results: list[tuple[str, ParsedArticle | ArticleError]] = []
    seen: set[str] = set()
    for path in article_files(directory):
        slug = slug_from_path(path)
        if slug in seen:
            results.append(("", ArticleError(path, f"slug {slug!r} is already used")))
            continue
        seen.add(slug)
        try:
            results.append((slug, parse_article(path)))
        except ArticleError as exc:
            results.append((slug, exc))
    return results


async def import_articles(
    session: AsyncSession,
    directory: Path,
    clock: Clock,
    *,
    prune: bool = False,
    dry_run: bool = False,
    force: bool = False,
    editor: Editor = IMPORT,
) -> ImportReport:
    """Upsert the articles of ``directory``. Flushes but does not commit: the caller owns the
    transaction. With ``dry_run`` the report says what an import would do and nothing is
    written; with ``force`` articles changed since their import are overwritten too."""
    report = ImportReport()
    files = await asyncio.to_thread(read_articles, directory)
    parsed: list[ParsedArticle] = []
    present: set[str] = set()
    for slug, result in files:
        if slug:
            present.add(slug)
        if isinstance(result, ArticleError):
            logger.info("skipping article: %s", result)
            report.errors.append(result)
        else:
            parsed.append(result)
    existing = await upsert_articles(
        session, parsed, clock, report, dry_run=dry_run, force=force, editor=editor
    )
    if prune:
        for slug, article in sorted(existing.items()):
            # Only articles that came from article files: a spreadsheet's have none to miss.
            from_file = Path(article.source_path).suffix.lower() in ARTICLE_SUFFIXES
            if slug not in present and from_file:
                if not dry_run:
                    await session.delete(article)
                    await _record_removal(session, slug, editor, clock)
                report.removed.append(slug)
    if not dry_run:
        await session.flush()
    return report


async def upsert_articles(
    session: AsyncSession,
    articles: list[ParsedArticle],
    clock: Clock,
    report: ImportReport,
    *,
    dry_run: bool = False,
    force: bool = False,
    editor: Editor = IMPORT,
) -> dict[str, Article]:
    """Add or update ``articles`` by slug, noting each in ``report`` (with what changed, or
    why it was left alone); the articles that were in the database before, by slug."""
    existing = {
        a.slug: a
        for a in (
            await session.scalars(select(Article).options(selectinload(Article.chunks)))
        ).all()
    }
    touched: list[Article] = []
    for parsed in articles:
        article = existing.get(parsed.slug)
        if article is None:
            if not dry_run:
                added = _new_article(parsed, clock)
                session.add(added)
                await record_import(session, added, [], editor, clock.now(), parsed.status)
                touched.append(added)
            report.added.append(parsed.slug)
        elif _same(article, parsed) and article.status == parsed.status:
            report.unchanged.append(parsed.slug)
        elif changed_since_import(article) and not force:
            report.conflicts[parsed.slug] = _conflict(article)
        else:
            changes = _differences(article, parsed)
            report.changes[parsed.slug] = changes
            if not dry_run:
                await _update_article(session, article, parsed, clock)
                await record_import(session, article, changes, editor, clock.now(), parsed.status)
                touched.append(article)
            report.updated.append(parsed.slug)
    await stamp_version(session, touched, editor, clock.now())
    return existing


def _same(article: Article, parsed: ParsedArticle) -> bool:
    """The file says what the database says: the same file again, or the same content
    written out again (``kb export``, a move)."""
    if (article.content_hash, article.source_path) == (parsed.content_hash, parsed.source_path):
        return True
    return content_of(article) == Content(
        title=parsed.title,
        body=parsed.body,
        category=parsed.category,
        tags=tuple(parsed.tags),
        questions=tuple(parsed.questions),
    )


def _conflict(article: Article) -> str:
    if article.draft_revision is not None:
        return f"has an unpublished edit (revision {article.draft_revision})"
    if article.imported_revision is None:
        return f"was written in chat ({article.status}, revision {article.revision})"
    return (
        f"changed since its import ({article.status}, revision {article.revision}, "
        f"imported as {article.imported_revision})"
    )


async def _record_removal(session: AsyncSession, slug: str, editor: Editor, clock: Clock) -> None:
    """A pruned article: gone for every process (a version bump) and in the audit trail."""
    at = clock.now()
    await bump_version(session, ARTICLES, at=at, by=editor.actor)
    record_change(
        session,
        at=at,
        actor=editor.actor,
        platform=editor.platform,
        action="article.remove",
        target=slug,
    )


def _differences(article: Article, parsed: ParsedArticle) -> list[str]:
    """What an update changes, in the words an admin knows."""
    fields = {
        "title": (article.title, parsed.title),
        "category": (article.category, parsed.category),
        "tags": (list(article.tags or []), parsed.tags),
        "questions": (list(article.questions or []), parsed.questions),
        "answer": (article.body, parsed.body),
    }
    changed = [name for name, (old, new) in fields.items() if old != new]
    if article.source_path != parsed.source_path:
        changed.append(f"source (was {article.source_path})")
    if article.status != parsed.status:
        changed.append(f"status ({article.status} → {parsed.status})")
    return changed or ["formatting"]


def _chunk_rows(parsed: ParsedArticle) -> list[ArticleChunk]:
    return [
        ArticleChunk(ordinal=c.ordinal, section=c.section, text=c.text, content_hash=c.content_hash)
        for c in parsed.chunks
    ]


def _new_article(parsed: ParsedArticle, clock: Clock) -> Article:
    article = Article(chunks=_chunk_rows(parsed))
    _copy_fields(article, parsed, clock)
    return article


async def _update_article(
    session: AsyncSession, article: Article, parsed: ParsedArticle, clock: Clock
) -> None:
    _copy_fields(article, parsed, clock)
    article.chunks.clear()
    # The old rows must be gone before new ones reuse their (article_id, ordinal).
    await session.flush()
    article.chunks.extend(_chunk_rows(parsed))


def _copy_fields(article: Article, parsed: ParsedArticle, clock: Clock) -> None:
    article.slug = parsed.slug
    article.title = parsed.title
    article.category = parsed.category
    article.tags = list(parsed.tags)
    article.questions = list(parsed.questions)
    article.body = parsed.body
    article.source_path = parsed.source_path
    article.content_hash = parsed.content_hash
    article.updated_at = parsed.updated or clock.now()
