"""Import a directory of article files into the ``articles`` / ``article_chunks`` tables.

Articles are upserted by slug; a changed article gets its chunks replaced. Files that cannot be
parsed are reported in ``ImportReport.errors`` and skipped — one bad file never stops an import.
With ``prune=True`` articles whose files are gone are deleted (an article whose file exists but
is currently malformed is kept, so a typo does not delete it).
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
from bot.storage.models import Article, ArticleChunk

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

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged, {len(self.removed)} removed, "
            f"{len(self.errors)} skipped with errors"
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
    session: AsyncSession, directory: Path, clock: Clock, *, prune: bool = False
) -> ImportReport:
    """Upsert the articles of ``directory``. Flushes but does not commit: the caller owns the
    transaction."""
    report = ImportReport()
    files = await asyncio.to_thread(read_articles, directory)
    existing = {
        a.slug: a
        for a in (
            await session.scalars(select(Article).options(selectinload(Article.chunks)))
        ).all()
    }
    present: set[str] = set()
    for slug, parsed in files:
        if slug:
            present.add(slug)
        if isinstance(parsed, ArticleError):
            logger.info("skipping article: %s", parsed)
            report.errors.append(parsed)
            continue
        article = existing.get(slug)
        if article is None:
            session.add(_new_article(parsed, clock))
            report.added.append(slug)
        elif (article.content_hash, article.source_path) == (
            parsed.content_hash,
            parsed.source_path,
        ):
            report.unchanged.append(slug)
        else:
            await _update_article(session, article, parsed, clock)
            report.updated.append(slug)
    if prune:
        for slug, article in sorted(existing.items()):
            if slug not in present:
                await session.delete(article)
                report.removed.append(slug)
    await session.flush()
    return report


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
