"""Hybrid knowledge search: dense (faiss) + lexical (BM25), fused by reciprocal rank, one hit
per article.

The bot embeds each message once and shares the vector between intent classification and
search, so the main entry point takes a precomputed vector: ``search_vector(text, vector)``.

Ordering and scoring are deliberately separate:

- **order** (``rank``) comes from weighted reciprocal-rank fusion of the article's dense rank and
  its BM25 rank (``Fusion``; or one of them alone with ``mode="dense"`` / ``"lexical"``). The
  dense rank orders articles by their best entry's cosine plus ``Fusion.mean_weight`` × the
  mean cosine of all their entries; the BM25 rank is that of the article's best entry;
- **``score``** is the cosine similarity (clipped to 0..1) between the message and the article's
  best-matching vector — a chunk or one of its front-matter questions. It is comparable across
  queries, so *this* is the number answer thresholds apply to. RRF values are not: they depend
  only on ranks.

An article's example questions are indexed as vectors of their own that point at its lead
chunk; when a message is close to one of them, the article's best cosine (and so its dense rank
and ``score``) rises and the lead is shown. Search runs in memory on the loaded manifest: no
database access per query.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from bot.config import Settings
from bot.knowledge.articles import section_anchor
from bot.knowledge.chunking import chunk_prefix
from bot.knowledge.index import IndexEntry, KnowledgeIndex, KnownEntries
from bot.knowledge.lexical import LexicalIndex, reciprocal_rank_fusion
from nlu.embedding import Embedder

SearchMode = Literal["dense", "lexical", "hybrid"]
SNIPPET_CHARS = 400
_DENSE_POOL = 200  # nearest vectors fetched from faiss before aggregating per article


@dataclass(frozen=True)
class SearchHit:
    """One article found for a query. ``score`` is what thresholds apply to (see module doc)."""

    slug: str
    title: str
    category: str
    section: str  # "" when the best part is the article's lead
    snippet: str
    score: float  # dense cosine of the article's best match, 0..1
    dense_score: float  # the same cosine, unclipped
    lexical_score: float  # raw BM25 of the article's best entry (0 = no shared words)
    rank: int  # 1-based
    reference: str  # "kb:<slug>" or "kb:<slug>#<section-anchor>"


@dataclass(frozen=True)
class Fusion:
    """How the hybrid mode fuses the dense and the lexical ranking (reciprocal rank fusion).

    Each article scores ``dense_weight / (k + dense rank) + lexical_weight / (k + BM25 rank)``.
    With equal weights BM25 pulled the dense ranking *down* on paraphrased questions (StackFAQ
    Recall@1 0.85 vs 0.93 dense alone, CovidFAQ 0.49 vs 0.66). ``k`` and the lexical weight are
    chosen on dev queries only (``helpdesk bench sweep fusion``: StackFAQ group 0 and a seeded
    half of CovidFAQ, best mean hybrid Recall@1, the smallest lexical weight on a tie;
    ``docs/benchmarks.md``): no lexical weight above 0 found more first on either set, so the
    order is the dense one (``k`` then changes nothing). A deployment whose articles hinge on
    product names or error codes can give BM25 a say with ``SEARCH_LEXICAL_WEIGHT``.
    """

    k: float = 5.0
    dense_weight: float = 1.0
    lexical_weight: float = 0.0
    # The dense ranking orders articles by their best entry's cosine plus ``mean_weight`` × the
    # mean cosine of all their entries (chunks and example questions): an article that is about
    # the message throughout beats one with a single close sentence. 1.0 is chosen on dev
    # queries only (``helpdesk bench sweep mean-weight``: StackFAQ group 0 and a seeded half of
    # CovidFAQ, best mean Recall@1; ``docs/benchmarks.md``). Only the order changes:
    # ``SearchHit.score`` stays the best cosine, which answer thresholds apply to.
    mean_weight: float = 1.0
    # Only BM25's best ``lexical_pool`` rows are ranked and fused (at least 20 per hit asked
    # for), as only faiss's nearest are, so a message's work does not grow with the knowledge
    # base; an article whose best row lies further down would add less to its fused score
    # than BM25 adds to any article in the pool. 500 is the smallest pool with which every dev
    # query's top 3 and top 10 are those of fusing every row (``helpdesk bench sweep
    # lexical-pool``; docs/benchmarks.md).
    lexical_pool: int = 500


def configured_fusion(settings: Settings) -> Fusion:
    """The fusion the deployment asked for (``SEARCH_LEXICAL_WEIGHT``), the rest as chosen."""
    return Fusion(lexical_weight=settings.search_lexical_weight)


def configured_search(settings: Settings) -> KnowledgeSearch:
    """The search the bot runs: the index built under ``settings.index_dir``, fused as
    configured. The bot and ``helpdesk kb search`` both load it here."""
    return KnowledgeSearch.load(settings.index_dir, fusion=configured_fusion(settings))


class KnowledgeSearch:
    """Searches a loaded ``KnowledgeIndex``. Build once, share freely (read-only)."""

    def __init__(self, index: KnowledgeIndex, *, fusion: Fusion | None = None) -> None:
        self.index = index
        self.fusion = fusion or Fusion()
        entries = index.entries
        self._slugs = list(dict.fromkeys(e.slug for e in entries))
        article_of = {slug: i for i, slug in enumerate(self._slugs)}
        self._article_of = article_of
        row_of = {e.key: row for row, e in enumerate(entries)}
        self._entry_article = np.array([article_of[e.slug] for e in entries], dtype=np.int64)
        self._entry_chunk = [row_of.get(e.chunk_key, row) for row, e in enumerate(entries)]
        self._entry_counts = np.bincount(self._entry_article, minlength=len(self._slugs))
        self._rows_by_article = np.argsort(self._entry_article, kind="stable")
        self._article_start = np.cumsum(self._entry_counts) - self._entry_counts
        self._rows_of_article: list[list[int]] = [[] for _ in self._slugs]
        for row, e in enumerate(entries):
            self._rows_of_article[article_of[e.slug]].append(row)
        self._lexical = LexicalIndex([e.text for e in entries])

    @classmethod
    def load(
        cls, index_dir: Path, *, fusion: Fusion | None = None, known: KnownEntries | None = None
    ) -> KnowledgeSearch:
        """The search over the index in ``index_dir`` (``known``: see ``KnowledgeIndex.load``)."""
        return cls(KnowledgeIndex.load(index_dir, known=known), fusion=fusion)

    @property
    def model_name(self) -> str:
        return self.index.model_name

    @property
    def article_count(self) -> int:
        return len(self._slugs)

    def article_sections(self, slug: str) -> list[tuple[str, str]]:
        """An article's sections in order as (heading, Markdown body), the lead under "" — what
        answers show, rebuilt from the index's chunks (a long section's pieces joined)."""
        chunks = [e for e in self._entries_of(slug) if e.kind == "chunk"]
        chunks.sort(key=lambda e: int(e.key.rpartition("#")[2] or 0))
        sections: dict[str, list[str]] = {}
        for entry in chunks:
            prefix = chunk_prefix(entry.title, entry.section)
            body = entry.text[len(prefix) :] if entry.text.startswith(prefix) else entry.text
            sections.setdefault(entry.section, []).append(body.strip())
        return [(name, "\n\n".join(parts)) for name, parts in sections.items()]

    def best_section(self, slug: str, vector: np.ndarray) -> str:
        """The section of the article that is closest to the message (``""``: the lead). A
        match on one of the article's example questions stands for the whole article; this
        finds the part that answers it."""
        query = self._check_vector(vector)
        rows = [
            row
            for row in self._rows_of_article[self._article_of[slug]]
            if self.index.entries[row].kind == "chunk"
        ]
        if not rows:
            return ""
        cosines = self.index.vectors[rows] @ query
        return self.index.entries[rows[int(np.argmax(cosines))]].section

    def title_of(self, slug: str) -> str | None:
        return next((e.title for e in self._entries_of(slug)), None)

    def _entries_of(self, slug: str) -> list[IndexEntry]:
        """An article's entries, from the rows kept per article (answers ask on every message:
        no scan of the whole index)."""
        article = self._article_of.get(slug)
        if article is None:
            return []
        return [self.index.entries[row] for row in self._rows_of_article[article]]

    def search(
        self, text: str, embedder: Embedder, k: int = 5, *, mode: SearchMode = "hybrid"
    ) -> list[SearchHit]:
        """Embed ``text`` and search (CLI and benchmarks; the bot uses ``search_vector``)."""
        vector = None if mode == "lexical" else embedder.encode([text])[0]
        return self.search_vector(text, vector, k, mode=mode)

    def search_vector(
        self,
        query_text: str,
        vector: np.ndarray | None,
        k: int = 5,
        *,
        mode: SearchMode = "hybrid",
    ) -> list[SearchHit]:
        """The ``k`` best articles for a message and its (normalised) embedding.

        ``vector`` may be None only with ``mode="lexical"``; then ``score`` is 0.
        """
        n = len(self.index.entries)
        if n == 0 or k <= 0:
            return []
        if vector is None and mode != "lexical":
            raise ValueError(f"mode={mode!r} needs the query vector")
        query = None if vector is None else self._check_vector(vector)
        # Every message runs this: only the pooled rows of each ranking are touched per query,
        # so its cost does not grow with the knowledge base beyond faiss and BM25 themselves.
        entry_dense = np.full(n, -np.inf, dtype=np.float32)
        article_dense = np.full(len(self._slugs), -np.inf, dtype=np.float32)
        rankings: list[np.ndarray] = []  # entry rows, best first
        article_rankings: list[np.ndarray] = []  # the same rankings per article
        weights: list[float] = []
        if query is not None and mode != "lexical":
            rows, cosines = self.index.nearest(query, max(_DENSE_POOL, 20 * k))
            entry_dense[rows] = cosines
            np.maximum.at(article_dense, self._entry_article[rows], cosines)
            rankings.append(rows)
            article_rankings.append(self._dense_article_ranking(query, rows))
            weights.append(self.fusion.dense_weight)
        entry_lexical: np.ndarray | None = None
        if mode != "dense":
            entry_lexical = self._lexical.scores(query_text)
            lexical_rows = best_rows(entry_lexical, max(self.fusion.lexical_pool, 20 * k))
            rankings.append(lexical_rows)
            # lexically an article ranks where its best entry ranks
            article_rankings.append(first_occurrences(self._entry_article[lexical_rows]))
            # the weight sets BM25's say beside the dense ranking; alone, it ranks in full
            weights.append(self.fusion.lexical_weight if mode == "hybrid" else 1.0)

        candidates, article_fused = self._fused_articles(article_rankings, weights)
        # best fused first, then best cosine; full ties keep the rankings' order
        by_rank = np.lexsort(
            (np.arange(len(candidates)), -article_dense[candidates], -article_fused)
        )
        order = candidates[by_rank[:k]].tolist()
        entry_fused = reciprocal_rank_fusion(
            [ranking.tolist() for ranking in rankings], k=self.fusion.k, weights=weights
        )

        hits = []
        for rank, article in enumerate(order, start=1):
            rows_of = self._rows_of_article[article]
            dense = float(article_dense[article])
            if query is not None and not np.isfinite(dense):  # outside the faiss pool
                dense = float(np.max(self.index.vectors[rows_of] @ query))
            lexical = 0.0 if entry_lexical is None else float(np.max(entry_lexical[rows_of]))
            best = max(rows_of, key=lambda r: (entry_fused.get(r, 0.0), entry_dense[r]))
            chunk = self.index.entries[self._entry_chunk[best]]
            hits.append(_hit(chunk, rank, dense if query is not None else 0.0, lexical))
        return hits

    def _fused_articles(
        self, rankings: Sequence[np.ndarray], weights: Sequence[float]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Reciprocal rank fusion of article rankings (``reciprocal_rank_fusion`` on arrays):
        the articles in order of first appearance, and their fused scores."""
        fused = np.zeros(len(self._slugs))
        for ranking, weight in zip(rankings, weights, strict=True):
            fused[ranking] += weight / (self.fusion.k + np.arange(1, len(ranking) + 1))
        candidates = first_occurrences(np.concatenate(rankings))
        return candidates, fused[candidates]

    def _dense_article_ranking(self, query: np.ndarray, pool: np.ndarray) -> np.ndarray:
        """The articles with an entry among the ``pool`` nearest, best first by their best
        cosine plus ``mean_weight`` × the mean cosine of all their entries."""
        candidates = first_occurrences(self._entry_article[pool])
        if len(candidates) == 0:
            return candidates
        counts = self._entry_counts[candidates]
        ends = np.cumsum(counts)
        # the candidates' rows, from the rows grouped per article, in row order
        grouped = np.repeat(self._article_start[candidates] - (ends - counts), counts)
        rows = np.sort(self._rows_by_article[grouped + np.arange(int(ends[-1]))])
        owner = self._entry_article[rows]
        cosines = (self.index.vectors[rows] @ query).astype(np.float64)
        best = np.full(len(self._slugs), -np.inf)
        np.maximum.at(best, owner, cosines)
        mean = np.bincount(owner, cosines, len(self._slugs)) / np.maximum(self._entry_counts, 1)
        score = best[candidates] + self.fusion.mean_weight * mean[candidates]
        ranked: np.ndarray = candidates[np.argsort(-score, kind="stable")]
        return ranked

    def _check_vector(self, vector: np.ndarray) -> np.ndarray:
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        if query.shape[0] != self.index.dimension:
            raise ValueError(
                f"query vector has {query.shape[0]} dimensions, the index "
                f"{self.index.dimension} (built with {self.model_name})"
            )
        return query


def best_rows(scores: np.ndarray, size: int) -> np.ndarray:
    """The rows of the ``size`` best positive ``scores``, best first, equal scores in row order:
    the head of a stable sort of all of them, found without sorting them all."""
    rows = np.flatnonzero(scores > 0)
    if len(rows) > size:
        cutoff = np.partition(scores[rows], len(rows) - size)[len(rows) - size]
        rows = rows[scores[rows] >= cutoff]  # rows tied at the cutoff stay, in row order
    return rows[np.argsort(-scores[rows], kind="stable")[:size]]


def first_occurrences(items: np.ndarray) -> np.ndarray:
    """``items`` without repeats, each where it first occurs."""
    _, first = np.unique(items, return_index=True)
    return items[np.sort(first)]


def answer_hit(hits: Sequence[SearchHit], threshold: float) -> SearchHit | None:
    """The hit the bot answers with: the best-ranked one whose ``score`` clears ``threshold``
    (hits come in fused order; the threshold applies to the dense cosine)."""
    return next((hit for hit in hits if hit.score >= threshold), None)


def _hit(entry: IndexEntry, rank: int, dense: float, lexical: float) -> SearchHit:
    return SearchHit(
        slug=entry.slug,
        title=entry.title,
        category=entry.category,
        section=entry.section,
        snippet=make_snippet(entry.text, entry.title, entry.section),
        score=round(min(max(dense, 0.0), 1.0), 4),
        dense_score=round(dense, 4),
        lexical_score=round(float(lexical), 4),
        rank=rank,
        reference=(
            f"kb:{entry.slug}#{section_anchor(entry.section)}"
            if entry.section
            else f"kb:{entry.slug}"
        ),
    )


_SENTENCE_END = re.compile(r"[.!?](?=\s)|\n")


_EMPHASIS = re.compile(r"(\*\*|__|`)(.+?)\1", re.DOTALL)
_DANGLING_LIST_NUMBER = re.compile(r"\n\s*\d+\.$")


def make_snippet(text: str, title: str, section: str, limit: int = SNIPPET_CHARS) -> str:
    """The chunk as people read it: without the title prefix and Markdown emphasis (every
    platform shows the snippet as plain text), cut at a sentence end."""
    prefix = chunk_prefix(title, section)
    body = text[len(prefix) :] if text.startswith(prefix) else text
    body = _EMPHASIS.sub(r"\2", body.strip())
    if len(body) <= limit:
        return body
    ends = [m.end() for m in _SENTENCE_END.finditer(body, 0, limit + 1)]
    good = [e for e in ends if e >= limit // 3]
    if good:
        # "…checkout.\n2." ends on a list item's number, not a sentence: drop the number
        return _DANGLING_LIST_NUMBER.sub("", body[: good[-1]].rstrip()).rstrip()
    cut = body.rfind(" ", 0, limit)
    return body[: cut if cut > 0 else limit].rstrip() + "…"
