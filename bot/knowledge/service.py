"""Knowledge-base verbs that span the database and the index: ``reindex`` and ``ensure_ready``.

Both accept either a session factory (they open and commit their own session) or an open
``AsyncSession`` (they use it; ``ensure_ready`` commits the import on it). Embedding and faiss
work runs in a worker thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.knowledge.importer import ImportReport, import_articles
from bot.knowledge.index import (
    FLAT_BELOW,
    IndexBuildReport,
    IndexEntry,
    KnownEntries,
    Progress,
    article_entries,
    build_index,
    fingerprint,
    is_current,
)
from bot.knowledge.versions import PUBLISHED
from bot.storage.locks import lock_for_setup
from bot.storage.models import Article, ArticleChunk
from nlu.embedding import Embedder

logger = logging.getLogger(__name__)

Sessions = async_sessionmaker[AsyncSession] | AsyncSession


@dataclass(frozen=True)
class ReadyReport:
    """What ``ensure_ready`` had to do (None: nothing), and the entries the index now holds:
    ``KnowledgeIndex.load(..., known=report.entries)`` need not read them again."""

    imported: ImportReport | None
    built: IndexBuildReport | None
    entries: KnownEntries


@asynccontextmanager
async def _session(sessions: Sessions) -> AsyncIterator[AsyncSession]:
    if isinstance(sessions, AsyncSession):
        yield sessions
        return
    async with sessions() as session:
        yield session


async def load_entries(session: AsyncSession) -> list[IndexEntry]:
    """The index entries of every published article in the database, in slug order (drafts
    and retired articles are never answered). Plain rows of the columns the entries need, not
    ORM objects with their bodies: every start reads them all (2 s for 10,000 articles as
    objects)."""
    articles = (
        await session.execute(
            select(Article.id, Article.slug, Article.title, Article.category, Article.questions)
            .where(Article.status == PUBLISHED)
            .order_by(Article.slug)
        )
    ).all()
    chunks: dict[int, list[tuple[int, str, str, str]]] = {}
    for article_id, ordinal, section, text, content_hash in await session.execute(
        select(
            ArticleChunk.article_id,
            ArticleChunk.ordinal,
            ArticleChunk.section,
            ArticleChunk.text,
            ArticleChunk.content_hash,
        )
        .join(Article, Article.id == ArticleChunk.article_id)
        .where(Article.status == PUBLISHED)
    ):
        chunks.setdefault(article_id, []).append((ordinal, section, text, content_hash))
    entries: list[IndexEntry] = []
    for article_id, slug, title, category, questions in articles:
        entries.extend(
            article_entries(
                slug=slug,
                title=title,
                category=category,
                questions=questions or [],
                chunks=chunks.get(article_id, []),
            )
        )
    return entries


def entries_of(article: Article) -> list[IndexEntry]:
    """The index entries of one article (its chunks loaded)."""
    return article_entries(
        slug=article.slug,
        title=article.title,
        category=article.category,
        questions=article.questions or [],
        chunks=[(c.ordinal, c.section, c.text, c.content_hash) for c in article.chunks],
    )


async def reindex(
    sessions: Sessions,
    embedder: Embedder,
    index_dir: Path,
    *,
    progress: Progress | None = None,
    flat_below: int = FLAT_BELOW,
) -> IndexBuildReport:
    """Rebuild the index from the database, encoding only new or changed texts."""
    async with _session(sessions) as session:
        entries = await load_entries(session)
    report = await asyncio.to_thread(
        build_index, entries, embedder, index_dir, progress=progress, flat_below=flat_below
    )
    logger.info(
        "knowledge index: %d entries, %d encoded, %d reused",
        report.entries,
        report.encoded,
        report.reused,
    )
    return report


async def ensure_ready(
    sessions: Sessions,
    embedder: Embedder,
    *,
    articles_dir: Path,
    index_dir: Path,
    clock: Clock,
    progress: Progress | None = None,
    flat_below: int = FLAT_BELOW,
) -> ReadyReport:
    """First-run setup: import ``articles_dir`` if the database has no articles, then rebuild
    the index if it does not match the database (or was built with another model).

    When everything is current this costs two small queries, reading the published articles,
    their fingerprint and the manifest's small header; the embedding model is not loaded.
    """
    imported: ImportReport | None = None
    async with _session(sessions) as session:
        if not await _article_count(session):
            imported = await _first_import(session, articles_dir, clock, progress)
        entries = await load_entries(session)
    known = KnownEntries(entries, fingerprint(entries, embedder.model_name))
    if is_current(index_dir, entries, embedder.model_name, flat_below, digest=known.fingerprint):
        return ReadyReport(imported=imported, built=None, entries=known)
    built = await asyncio.to_thread(
        build_index, entries, embedder, index_dir, progress=progress, flat_below=flat_below
    )
    return ReadyReport(imported=imported, built=built, entries=known)


async def _article_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Article)) or 0)


async def _first_import(
    session: AsyncSession, articles_dir: Path, clock: Clock, progress: Progress | None
) -> ImportReport | None:
    """Import the articles into an empty database. Processes starting together on a fresh
    database take turns under a lock; the later ones find the articles there and import
    nothing (None)."""
    await lock_for_setup(session, "knowledge-import")
    if await _article_count(session):
        await session.commit()  # releases the lock
        return None
    if progress:
        progress(0, 1, "importing articles")
    imported = await import_articles(session, articles_dir, clock)
    await session.commit()
    for error in imported.errors:
        logger.warning("article skipped: %s", error)
    if progress:
        progress(1, 1, "importing articles")
    return imported
