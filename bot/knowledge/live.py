"""The knowledge search a running process answers with, kept current with the database.

Every change customers would see (publish, retire, rollback, an import) bumps the articles
content version and stamps the changed articles with it (``bot.knowledge.versions``). Before
each answer a process reads the version (one primary-key read); when it is behind, it reads
only the articles changed since the version it serves, encodes only their new texts, and swaps
in the new search at once — no restart, no full rebuild, no pause for messages already being
answered (they finish on the search they started with). So the next message after an admin's
"published" is answered with the article in every process of the desk.

The rebuilt search is also written to the index directory, so a restart finds it current.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot.clock import Clock
from bot.knowledge.chunking import text_hash
from bot.knowledge.index import (
    FLAT_BELOW,
    IndexEntry,
    KnowledgeIndex,
    vector_index,
    write_index,
)
from bot.knowledge.search import Fusion, KnowledgeSearch, SearchHit
from bot.knowledge.service import ensure_ready, entries_of
from bot.knowledge.versions import PUBLISHED
from bot.storage.content import ARTICLES, current_version
from bot.storage.models import Article
from nlu.embedding import Embedder

logger = logging.getLogger(__name__)


class LiveKnowledge:
    """Answers like ``KnowledgeSearch`` (the dialog's searcher) and catches up with the
    database on ``catch_up()``, which the understander awaits before each message."""

    def __init__(
        self,
        *,
        search: KnowledgeSearch,
        version: int,
        sessions: async_sessionmaker[AsyncSession],
        embedder: Embedder,
        index_dir: Path | None = None,
        flat_below: int = FLAT_BELOW,
    ) -> None:
        self._search = search
        self._flat_below = flat_below
        self._version = version
        self._sessions = sessions
        self._embedder = embedder
        self._index_dir = index_dir
        self._lock = asyncio.Lock()

    @property
    def version(self) -> int:
        """The articles content version this process answers with."""
        return self._version

    @property
    def search(self) -> KnowledgeSearch:
        return self._search

    async def catch_up(self, latest: int | None = None) -> bool:
        """Reload the articles changed since the version served, if the database has moved on
        (to ``latest`` when the caller has just read it); True when it did. A failure is logged
        and answering goes on with what is loaded."""
        try:
            if latest is None:
                async with self._sessions() as session:
                    latest = await current_version(session, ARTICLES)
            if latest <= self._version:
                return False
            async with self._lock:  # one reload at a time; the others find it done
                if latest <= self._version:
                    return False
                await self._reload(latest)
            return True
        except Exception:
            logger.exception("could not catch up with the knowledge base; answering as before")
            return False

    async def _reload(self, latest: int) -> None:
        async with self._sessions() as session:
            changed = list(
                await session.scalars(
                    select(Article)
                    .options(selectinload(Article.chunks))
                    .where(Article.changed_version > self._version)
                )
            )
            published = set(
                await session.scalars(select(Article.slug).where(Article.status == PUBLISHED))
            )
        fresh = {a.slug: entries_of(a) for a in changed if a.status == PUBLISHED}
        self._search = await asyncio.to_thread(self._rebuilt, fresh, published)
        logger.info(
            "knowledge base at version %d: %d article(s) reloaded, %d answered",
            latest,
            len(changed),
            self._search.article_count,
        )
        self._version = latest

    def _rebuilt(self, fresh: dict[str, list[IndexEntry]], published: set[str]) -> KnowledgeSearch:
        """The search with ``fresh`` articles' entries in place of their old ones and articles
        no longer published dropped; only texts not embedded before are encoded."""
        old = self._search.index
        kept: dict[str, list[IndexEntry]] = {}
        for entry in old.entries:
            if entry.slug in published and entry.slug not in fresh:
                kept.setdefault(entry.slug, []).append(entry)
        kept.update(fresh)
        entries = [e for slug in sorted(kept) for e in kept[slug]]
        vectors = {text_hash(e.text): old.vectors[row] for row, e in enumerate(old.entries)}
        _encode_missing(entries, vectors, self._embedder)
        faiss_index = vector_index(entries, vectors, old.dimension, self._flat_below)
        if self._index_dir is not None:
            try:
                write_index(self._index_dir, entries, faiss_index, vectors, old.model_name)
            except OSError as exc:  # answering does not depend on the copy on disk
                logger.warning("could not write the knowledge index: %s", exc)
        index = KnowledgeIndex(faiss_index=faiss_index, entries=entries, model_name=old.model_name)
        return KnowledgeSearch(index, fusion=self._search.fusion)

    # What the dialog's understander asks of a searcher: always the current search.
    def search_vector(self, query_text: str, vector: np.ndarray, k: int = 5) -> list[SearchHit]:
        return self._search.search_vector(query_text, vector, k)

    def article_sections(self, slug: str) -> list[tuple[str, str]]:
        return self._search.article_sections(slug)

    def title_of(self, slug: str) -> str | None:
        return self._search.title_of(slug)

    def best_section(self, slug: str, vector: np.ndarray) -> str:
        return self._search.best_section(slug, vector)


def _encode_missing(
    entries: Sequence[IndexEntry], vectors: dict[str, np.ndarray], embedder: Embedder
) -> None:
    missing = {text_hash(e.text): e.text for e in entries if text_hash(e.text) not in vectors}
    if not missing:
        return
    encoded = np.asarray(embedder.encode(list(missing.values())), dtype=np.float32)
    vectors.update(zip(missing, encoded, strict=True))


async def live_knowledge(
    sessions: async_sessionmaker[AsyncSession],
    embedder: Embedder,
    *,
    articles_dir: Path,
    index_dir: Path,
    clock: Clock,
    fusion: Fusion | None = None,
    progress: Any = None,
    flat_below: int = FLAT_BELOW,
) -> LiveKnowledge:
    """Set up the knowledge base (first import, index) and load it live. The version is read
    first: a change committed while loading is caught up on the first message."""
    async with sessions() as session:
        version = await current_version(session, ARTICLES)
    ready = await ensure_ready(
        sessions,
        embedder,
        articles_dir=articles_dir,
        index_dir=index_dir,
        clock=clock,
        progress=progress,
        flat_below=flat_below,
    )
    search = await asyncio.to_thread(
        KnowledgeSearch.load, index_dir, fusion=fusion, known=ready.entries
    )
    return LiveKnowledge(
        search=search,
        version=version,
        sessions=sessions,
        embedder=embedder,
        index_dir=index_dir,
        flat_below=flat_below,
    )
