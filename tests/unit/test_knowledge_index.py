"""The persisted index (incremental rebuilds) and hybrid search, with a deterministic embedder."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot.clock import FrozenClock
from bot.knowledge.articles import parse_article
from bot.knowledge.index import (
    IndexEntry,
    IndexUnavailable,
    KnowledgeIndex,
    article_entries,
    build_index,
    is_current,
)
from bot.knowledge.lexical import tokenize
from bot.knowledge.search import KnowledgeSearch
from bot.knowledge.service import ensure_ready, entries_of, load_entries, reindex
from bot.knowledge.versions import PUBLISHED, RETIRED
from bot.storage.db import create_engine, session_factory
from bot.storage.models import Article, Base


class HashingEmbedder:
    """Bag of (stemmed) words hashed into 256 dimensions; counts every text it encodes."""

    model_name = "hashing-test"
    dimension = 256

    def __init__(self) -> None:
        self.encoded: list[str] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.encoded.extend(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in tokenize(text):
                out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimension] += 1
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)


ARTICLES = {
    "password": (
        "Reset password",
        ["I forgot my password", "locked out of my account"],
        "Use the reset link on the sign-in page.\n\n## Reset email missing\n\nLook in spam.",
    ),
    "shipping": (
        "Shipping times",
        ["when will my order arrive"],
        "Orders ship in three days.\n\n## Express delivery\n\nExpress delivery takes one day.",
    ),
    "refund": ("Refunds", [], "Money back within thirty days of purchase."),
}


def write_articles(folder: Path, articles: dict[str, tuple[str, list[str], str]]) -> None:
    folder.mkdir(exist_ok=True)
    for slug, (title, questions, body) in articles.items():
        (folder / f"{slug}.md").write_text(
            "---\n" + json.dumps({"title": title, "questions": questions}) + "\n---\n" + body
        )


def entries_for(folder: Path) -> list[IndexEntry]:
    entries: list[IndexEntry] = []
    for path in sorted(folder.glob("*.md")):
        a = parse_article(path)
        entries += article_entries(
            slug=a.slug,
            title=a.title,
            category=a.category,
            questions=a.questions,
            chunks=[(c.ordinal, c.section, c.text, c.content_hash) for c in a.chunks],
        )
    return entries


@pytest.fixture
def kb(tmp_path: Path) -> KnowledgeSearch:
    write_articles(tmp_path / "articles", ARTICLES)
    build_index(entries_for(tmp_path / "articles"), HashingEmbedder(), tmp_path / "index")
    return KnowledgeSearch.load(tmp_path / "index")


def test_question_entries_point_at_the_lead_chunk(tmp_path: Path) -> None:
    write_articles(tmp_path, ARTICLES)
    entries = [e for e in entries_for(tmp_path) if e.slug == "password"]

    assert [e.kind for e in entries] == ["chunk", "chunk", "question", "question"]
    assert {e.chunk_key for e in entries if e.kind == "question"} == {"password#0"}


def test_reindex_encodes_only_new_and_changed_texts(tmp_path: Path) -> None:
    write_articles(tmp_path / "articles", ARTICLES)
    embedder = HashingEmbedder()
    first = build_index(entries_for(tmp_path / "articles"), embedder, tmp_path / "index")
    assert first.encoded == first.entries == 8

    again = build_index(entries_for(tmp_path / "articles"), embedder, tmp_path / "index")
    assert (again.encoded, again.reused) == (0, 8)

    changed = dict(ARTICLES, refund=("Refunds", ["can I get my money back"], "Sixty days now."))
    write_articles(tmp_path / "articles", changed)
    embedder.encoded.clear()
    third = build_index(entries_for(tmp_path / "articles"), embedder, tmp_path / "index")

    assert third.encoded == 2
    assert sorted(embedder.encoded) == ["Refunds\n\nSixty days now.", "can I get my money back"]
    assert KnowledgeIndex.load(tmp_path / "index").faiss_index.ntotal == 9


def test_is_current_notices_content_and_model_changes(tmp_path: Path) -> None:
    write_articles(tmp_path / "articles", ARTICLES)
    entries = entries_for(tmp_path / "articles")
    assert not is_current(tmp_path / "index", entries, "hashing-test")

    build_index(entries, HashingEmbedder(), tmp_path / "index")

    assert is_current(tmp_path / "index", entries, "hashing-test")
    assert not is_current(tmp_path / "index", entries[:-1], "hashing-test")
    assert not is_current(tmp_path / "index", entries, "another-model")


def test_loading_a_missing_index_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(IndexUnavailable, match="reindex"):
        KnowledgeSearch.load(tmp_path / "nothing")


def test_hybrid_search_returns_one_hit_per_article_best_first(kb: KnowledgeSearch) -> None:
    hits = kb.search("I forgot my password", HashingEmbedder(), k=5)

    assert hits[0].slug == "password"
    assert hits[0].score == pytest.approx(1.0, abs=1e-3), "an example question matched exactly"
    assert len({h.slug for h in hits}) == len(hits) == 3
    assert [h.rank for h in hits] == [1, 2, 3]
    assert hits[0].reference == "kb:password"
    assert hits[0].snippet == "Use the reset link on the sign-in page."


def test_the_best_section_is_the_snippet(kb: KnowledgeSearch) -> None:
    hit = kb.search("express delivery", HashingEmbedder(), k=1)[0]

    assert (hit.slug, hit.section) == ("shipping", "Express delivery")
    assert hit.snippet == "Express delivery takes one day."
    assert hit.reference == "kb:shipping#express-delivery"
    assert hit.lexical_score > 0


def test_search_vector_uses_the_given_vector(kb: KnowledgeSearch) -> None:
    vector = HashingEmbedder().encode(["money back refund"])[0]

    hits = kb.search_vector("thirty days purchase", vector, k=2)

    assert hits[0].slug == "refund"
    assert 0.0 <= hits[0].score <= 1.0
    with pytest.raises(ValueError, match="dimensions"):
        kb.search_vector("x", np.ones(3, dtype=np.float32))


def test_modes_rank_by_their_own_signal(kb: KnowledgeSearch) -> None:
    embedder = HashingEmbedder()

    lexical = kb.search_vector("spam", None, k=5, mode="lexical")
    dense = kb.search("spam", embedder, k=5, mode="dense")

    assert [h.slug for h in lexical] == ["password"], "only articles sharing a word"
    assert lexical[0].score == 0.0 and lexical[0].section == "Reset email missing"
    assert len(dense) == 3 and dense[0].slug == "password"
    assert dense[0].score >= dense[1].score >= dense[2].score
    assert kb.search("qwertyuiop", embedder, k=5, mode="lexical") == []


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(f"sqlite:///{tmp_path / 'kb.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield session_factory(engine)
    await engine.dispose()


async def test_ensure_ready_imports_once_then_only_rebuilds_when_stale(
    tmp_path: Path, sessions: async_sessionmaker[AsyncSession]
) -> None:
    write_articles(tmp_path / "articles", ARTICLES)
    embedder = HashingEmbedder()
    calls: list[tuple[int, int, str]] = []
    ready = functools.partial(
        ensure_ready,
        sessions,
        embedder,
        articles_dir=tmp_path / "articles",
        index_dir=tmp_path / "index",
        clock=FrozenClock(),
    )

    first = await ready(progress=lambda *a: calls.append(a))
    assert first.imported is not None and len(first.imported.added) == 3
    assert first.built is not None and first.built.encoded == 8
    assert calls[-1] == (8, 8, "embedding articles")

    second = await ready()
    assert (second.imported, second.built) == (None, None)

    (tmp_path / "index" / "manifest.json").unlink()
    third = await ready()
    assert third.built is not None and third.built.encoded == 0, "vectors came from the store"

    rebuilt = await reindex(sessions, embedder, tmp_path / "index")
    assert (rebuilt.entries, rebuilt.encoded) == (8, 0)
    assert KnowledgeSearch.load(tmp_path / "index").article_count == 3


async def test_the_entries_a_start_reads_are_those_of_the_published_articles(
    tmp_path: Path, sessions: async_sessionmaker[AsyncSession]
) -> None:
    write_articles(tmp_path / "articles", {**ARTICLES, "empty": ("Empty", ["a question"], "")})
    await ensure_ready(
        sessions,
        HashingEmbedder(),
        articles_dir=tmp_path / "articles",
        index_dir=tmp_path / "index",
        clock=FrozenClock(),
    )
    async with sessions() as session:
        articles = {a.slug: a for a in await session.scalars(select(Article))}
        articles["shipping"].status = RETIRED
        await session.commit()
    async with sessions() as session:
        loaded = await load_entries(session)
        published = (
            await session.scalars(
                select(Article)
                .options(selectinload(Article.chunks))
                .where(Article.status == PUBLISHED)
                .order_by(Article.slug)
            )
        ).all()
        expected = [e for article in published for e in entries_of(article)]

    assert loaded == expected
    assert {e.slug for e in loaded} == {"password", "refund"}
