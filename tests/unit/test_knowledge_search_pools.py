"""Search on a knowledge base bigger than its pools: the hits are those of the exhaustive
fusion, and what each message fuses does not grow with the knowledge base.

Every message runs the search, so it fuses only the best rows of each ranking (faiss's nearest,
BM25's best). Here most entries share a word with every query, far more than a pool holds.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import asdict
from typing import Any

import numpy as np
import pytest

import bot.knowledge.search as search_module
from bot.knowledge.index import article_entries, build_index
from bot.knowledge.lexical import reciprocal_rank_fusion
from bot.knowledge.search import Fusion, KnowledgeSearch, SearchMode

DIM = 16
WORDS = (
    "refund", "invoice", "parcel", "login", "password",
    "shipping", "account", "order", "card", "export",
)  # fmt: skip
ARTICLES = 300  # three entries each: 900 rows, most of them matching any query's words


class HashedEmbedder:
    """A fixed pseudo-random unit vector per text."""

    model_name = "hashed-test"
    dimension = DIM

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        rows = []
        for text in texts:
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")
            vector = np.random.default_rng(seed).normal(size=DIM)
            rows.append(vector / np.linalg.norm(vector))
        return np.array(rows, dtype=np.float32)


@pytest.fixture(scope="module")
def search(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeSearch:
    rng = random.Random(7)
    entries = []
    for n in range(ARTICLES):
        chunks = [
            (o, section, " ".join(rng.choices(WORDS, k=rng.randrange(3, 9))), f"a{n}-{o}")
            for o, section in enumerate(("", "Details"))
        ]
        question = " ".join(rng.choices(WORDS, k=3)) + "?"
        entries += article_entries(
            slug=f"article-{n}", title=f"Article {n}", category="", questions=[question],
            chunks=chunks,
        )  # fmt: skip
    index_dir = tmp_path_factory.mktemp("pools") / "index"
    build_index(entries, HashedEmbedder(), index_dir)
    # BM25 with a say (the default gives it none), so the hybrid hits depend on its pool
    return KnowledgeSearch.load(index_dir, fusion=Fusion(k=10.0, lexical_weight=0.1))


def queries() -> list[tuple[str, np.ndarray]]:
    rng = random.Random(11)
    texts = [" ".join(rng.sample(WORDS, rng.randrange(1, 4))) for _ in range(40)]
    return list(zip(texts, HashedEmbedder().encode(texts), strict=True))


def exhaustive_hits(
    search: KnowledgeSearch, text: str, vector: np.ndarray | None, k: int, mode: SearchMode
) -> list[dict[str, Any]]:
    """The fusion over every row BM25 scores (as the search computed it before it had a
    lexical pool): per-article rankings, fused, best fused first then best cosine."""
    entries, fusion = search.index.entries, search.fusion
    article = search._entry_article
    entry_dense = np.full(len(entries), -np.inf, dtype=np.float32)
    rankings: list[list[int]] = []
    article_rankings: list[list[int]] = []
    weights: list[float] = []
    query = None if vector is None else np.asarray(vector, dtype=np.float32)
    if query is not None and mode != "lexical":
        rows, cosines = search.index.nearest(query, max(search_module._DENSE_POOL, 20 * k))
        entry_dense[rows] = cosines
        rankings.append(rows.tolist())
        article_rankings.append(exhaustive_dense_ranking(search, query, rows))
        weights.append(fusion.dense_weight)
    entry_lexical = np.zeros(len(entries), dtype=np.float32)
    if mode != "dense":
        entry_lexical = search._lexical.scores(text)
        by_score = np.argsort(-entry_lexical, kind="stable")
        lexical_rows = [int(r) for r in by_score if entry_lexical[r] > 0]
        rankings.append(lexical_rows)
        article_rankings.append(list(dict.fromkeys(int(article[r]) for r in lexical_rows)))
        weights.append(fusion.lexical_weight if mode == "hybrid" else 1.0)
    article_dense = np.full(search.article_count, -np.inf, dtype=np.float32)
    np.maximum.at(article_dense, article, entry_dense)
    article_lexical = np.zeros(search.article_count, dtype=np.float32)
    np.maximum.at(article_lexical, article, entry_lexical)
    fused = reciprocal_rank_fusion(article_rankings, k=fusion.k, weights=weights)
    order = sorted(fused, key=lambda a: (-fused[a], -article_dense[a]))[:k]
    entry_fused = reciprocal_rank_fusion(rankings, k=fusion.k, weights=weights)
    hits = []
    for rank, a in enumerate(order, start=1):
        rows_of = search._rows_of_article[a]
        dense = float(article_dense[a])
        if query is not None and not np.isfinite(dense):
            dense = float(np.max(search.index.vectors[rows_of] @ query))
        best = max(rows_of, key=lambda r: (entry_fused.get(r, 0.0), entry_dense[r]))
        chunk = entries[search._entry_chunk[best]]
        lexical = article_lexical[a]
        hits.append(search_module._hit(chunk, rank, dense if query is not None else 0.0, lexical))
    return [asdict(hit) for hit in hits]


def exhaustive_dense_ranking(
    search: KnowledgeSearch, query: np.ndarray, pool: np.ndarray
) -> list[int]:
    """The articles with a row in ``pool``, by best cosine + mean_weight × mean cosine."""
    article, count = search._entry_article, search.article_count
    candidates = np.array(list(dict.fromkeys(article[pool].tolist())))
    rows = np.flatnonzero(np.isin(article, candidates))
    cosines = (search.index.vectors[rows] @ query).astype(np.float64)
    best = np.full(count, -np.inf)
    np.maximum.at(best, article[rows], cosines)
    mean = np.bincount(article[rows], cosines, count) / np.bincount(article, minlength=count)
    score = best[candidates] + search.fusion.mean_weight * mean[candidates]
    return [int(a) for a in candidates[np.argsort(-score, kind="stable")]]


@pytest.mark.parametrize("mode", ["hybrid", "lexical", "dense"])
@pytest.mark.parametrize("k", [3, 10])
def test_hits_are_those_of_the_exhaustive_fusion(
    search: KnowledgeSearch, mode: SearchMode, k: int
) -> None:
    for text, vector in queries():
        given = None if mode == "lexical" else vector
        found = [asdict(hit) for hit in search.search_vector(text, given, k, mode=mode)]
        assert found == exhaustive_hits(search, text, given, k, mode), text


def test_what_a_message_fuses_is_bounded_by_the_pools_not_the_knowledge_base(
    search: KnowledgeSearch, monkeypatch: pytest.MonkeyPatch
) -> None:
    fused_lengths: list[int] = []

    def recording_fusion(rankings: Iterable[Sequence[Hashable]], **kwargs: Any) -> dict:
        rankings = list(rankings)
        fused_lengths.extend(len(ranking) for ranking in rankings)
        return reciprocal_rank_fusion(rankings, **kwargs)

    monkeypatch.setattr(search_module, "reciprocal_rank_fusion", recording_fusion)
    text, vector = "refund invoice", HashedEmbedder().encode(["refund invoice"])[0]
    matching = int(np.count_nonzero(search._lexical.scores(text)))

    search.search_vector(text, vector, 3)

    pool = max(search_module._DENSE_POOL, search.fusion.lexical_pool)
    assert matching > pool  # the knowledge base is bigger than a pool
    assert fused_lengths and max(fused_lengths) <= pool
