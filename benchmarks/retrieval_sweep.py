"""The sweeps behind the knowledge search's mean term (``Fusion.mean_weight``) and lexical pool
(``Fusion.lexical_pool``), on dev queries.

The dense ranking scores an article by its best entry's cosine plus λ × the mean cosine of all
its entries. λ is chosen on dev queries only: StackFAQ's group-0 queries (the set the fusion
weights were chosen on; reported figures use group 1) and a seeded half of CovidFAQ's queries
(``COVID_DEV_SHARE``; the other half is reported). The rule: the best mean Recall@1 over the two
dev sets, the smaller λ on a tie (a smaller change to the plain best-entry ranking).

The lexical pool bounds a message's work, not its quality: the rule is the smallest pool with
which the hybrid top 3 (what the bot asks for) and top 10 of every dev query equal those of
fusing every row BM25 scores.

The fusion's ``k`` and lexical weight (``Fusion.k``, ``Fusion.lexical_weight``; the setting
``SEARCH_LEXICAL_WEIGHT`` defaults to the latter) are chosen on the same dev queries over
``FUSION_KS`` × ``LEXICAL_WEIGHTS``. The rule, written before the sweep was first run: the best
mean hybrid Recall@1 over the two dev sets, each counting once; the shipped pair on a tie at 4
decimals; else, among the tied pairs, the smallest lexical weight, then the smallest ``k``.

Only the dev queries are encoded or searched: StackFAQ's group 1 and CovidFAQ's reported half
are never read past the loader.
"""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.datasets import FaqQuery, load_covidfaq, load_stackfaq
from benchmarks.report import metric, result_document
from benchmarks.retrieval import build_search, corpus_entries, query_vectors, score_rankings
from bot.knowledge.search import Fusion, KnowledgeSearch
from nlu.embedding import Embedder

MEAN_WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.5, 1.0)
LEXICAL_POOLS = (100, 200, 300, 400, 500, 1000)
FUSION_KS = (5.0, 10.0, 20.0, 60.0)
LEXICAL_WEIGHTS = (0.0, 0.05, 0.1, 0.2, 0.3)
COVID_DEV_SHARE = 0.5
COVID_DEV_SEED = 0


def covid_halves(queries: list[FaqQuery]) -> tuple[list[int], list[int]]:
    """(dev rows, reported rows) of CovidFAQ's queries: a seeded half each."""
    rows = list(range(len(queries)))
    dev = set(random.Random(COVID_DEV_SEED).sample(rows, round(len(rows) * COVID_DEV_SHARE)))
    return sorted(dev), [i for i in rows if i not in dev]


def _recall_at_1(
    search: KnowledgeSearch, queries: list[FaqQuery], vectors: np.ndarray
) -> tuple[float, float]:
    ranked = [
        [hit.slug for hit in search.search_vector(q.text, vectors[i], 10, mode="dense")]
        for i, q in enumerate(queries)
    ]
    scores = score_rankings(ranked, [q.relevant for q in queries])
    return scores.recall[1], scores.mrr10


def _dev_sets(
    datasets_dir: Path, embedder: Embedder
) -> dict[str, tuple[KnowledgeSearch, list[FaqQuery], np.ndarray]]:
    stack = load_stackfaq(datasets_dir)
    stack_dev = [q for q in stack.queries if q.group == 0]
    covid = load_covidfaq(datasets_dir)
    covid_dev = [covid.queries[i] for i in covid_halves(covid.queries)[0]]
    return {
        "stackfaq group 0, no example questions": (
            build_search("stackfaq-plain", corpus_entries(stack), embedder),
            stack_dev,
            query_vectors("stackfaq", stack_dev, embedder),
        ),
        f"covidfaq dev half (seed {COVID_DEV_SEED})": (
            build_search("covidfaq", corpus_entries(covid), embedder),
            covid_dev,
            query_vectors("covidfaq", covid_dev, embedder),
        ),
    }


def run_mean_weight_sweep(datasets_dir: Path, embedder: Embedder) -> dict[str, Any]:
    dev_sets = _dev_sets(datasets_dir, embedder)
    rows: list[dict[str, Any]] = []
    mean_recall: dict[float, float] = {}
    for weight in MEAN_WEIGHTS:
        recalls = []
        for split, (search, queries, vectors) in dev_sets.items():
            search.fusion = replace(search.fusion, mean_weight=weight)
            recall, mrr = _recall_at_1(search, queries, vectors)
            recalls.append(recall)
            rows.append(metric(split, f"λ {weight:g}: dense recall@1", recall, len(queries)))
            rows.append(metric(split, f"λ {weight:g}: dense mrr@10", mrr, len(queries)))
        mean_recall[weight] = sum(recalls) / len(recalls)
    best = max(mean_recall.values())
    chosen = min(w for w, r in mean_recall.items() if r >= best - 1e-12)
    return result_document(
        "sweep-mean-weight",
        "Fusion.mean_weight on StackFAQ group 0 and a seeded half of CovidFAQ (dev only)",
        rows,
        rule="best mean dense Recall@1 over the two dev sets; the smaller λ on a tie",
        chosen=chosen,
        default=Fusion().mean_weight,
    )


def _hybrid_tops(
    search: KnowledgeSearch, queries: list[FaqQuery], vectors: np.ndarray, k: int
) -> list[list[str]]:
    return [
        [hit.slug for hit in search.search_vector(q.text, vectors[i], k)]
        for i, q in enumerate(queries)
    ]


def run_lexical_pool_sweep(datasets_dir: Path, embedder: Embedder) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    changed = dict.fromkeys(LEXICAL_POOLS, 0)
    for split, (search, queries, vectors) in _dev_sets(datasets_dir, embedder).items():
        n = len(queries)
        matching = [np.count_nonzero(search._lexical.scores(q.text)) for q in queries]
        rows.append(metric(split, "rows BM25 scores per query, median", np.median(matching), n))
        search.fusion = replace(search.fusion, lexical_pool=len(search.index.entries))
        every_row = {k: _hybrid_tops(search, queries, vectors, k) for k in (3, 10)}
        for pool in LEXICAL_POOLS:
            search.fusion = replace(search.fusion, lexical_pool=pool)
            tops = {k: _hybrid_tops(search, queries, vectors, k) for k in (3, 10)}
            differ = sum(
                tops[3][i] != every_row[3][i] or tops[10][i] != every_row[10][i] for i in range(n)
            )
            changed[pool] += differ
            rows.append(metric(split, f"pool {pool}: queries whose top 3 or 10 change", differ, n))
            recall = score_rankings(tops[3], [q.relevant for q in queries]).recall[1]
            rows.append(metric(split, f"pool {pool}: hybrid recall@1", recall, n))
    return result_document(
        "sweep-lexical-pool",
        "Fusion.lexical_pool on StackFAQ group 0 and a seeded half of CovidFAQ (dev only)",
        rows,
        rule="the smallest pool with which no dev query's hybrid top 3 or top 10 changes",
        chosen=min((pool for pool, count in changed.items() if count == 0), default=None),
        default=Fusion().lexical_pool,
    )


FusionPair = tuple[float, float]  # (k, lexical weight)


def choose_fusion(mean_recall: dict[FusionPair, float], shipped: FusionPair) -> FusionPair:
    """The fusion rule (module docstring), on the mean hybrid Recall@1 of each (k, weight)."""
    best = max(round(r, 4) for r in mean_recall.values())
    tied = [pair for pair, r in mean_recall.items() if round(r, 4) == best]
    if shipped in tied:
        return shipped
    return min(tied, key=lambda pair: (pair[1], pair[0]))


def run_fusion_sweep(datasets_dir: Path, embedder: Embedder) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    recalls: dict[FusionPair, list[float]] = {}
    for split, (search, queries, vectors) in _dev_sets(datasets_dir, embedder).items():
        relevant = [q.relevant for q in queries]
        for k in FUSION_KS:
            for weight in LEXICAL_WEIGHTS:
                search.fusion = replace(search.fusion, k=k, lexical_weight=weight)
                scores = score_rankings(_hybrid_tops(search, queries, vectors, 10), relevant)
                recalls.setdefault((k, weight), []).append(scores.recall[1])
                name = f"k {k:g}, lexical weight {weight:g}: hybrid"
                rows.append(metric(split, f"{name} recall@1", scores.recall[1], len(queries)))
                rows.append(metric(split, f"{name} mrr@10", scores.mrr10, len(queries)))
    mean_recall = {pair: sum(r) / len(r) for pair, r in recalls.items()}
    shipped = (Fusion().k, Fusion().lexical_weight)
    chosen = choose_fusion(mean_recall, shipped)
    means = mean_recall.items()
    return result_document(
        "sweep-fusion",
        "Fusion.k and Fusion.lexical_weight on StackFAQ group 0 and a seeded half of CovidFAQ "
        "(dev only)",
        rows,
        rule=(
            "best mean hybrid Recall@1 over the two dev sets, each counting once; the shipped "
            "pair on a tie at 4 decimals, else the smallest lexical weight, then the smallest k"
        ),
        mean_recall_at_1={f"k {k:g}, weight {w:g}": round(r, 4) for (k, w), r in means},
        chosen={"k": chosen[0], "lexical_weight": chosen[1]},
        shipped={"k": shipped[0], "lexical_weight": shipped[1]},
    )
