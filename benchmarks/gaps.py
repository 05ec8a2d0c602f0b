"""Knowledge-gap clustering quality (``helpdesk bench gaps``): the product's clustering
(``bot.reports.gap_clusters``, on the bot's encoder) against known right clusters.

The seeded set (``benchmarks/data/gap-questions.yml``) has topics of paraphrased questions and
one-off noise questions, split by topic into a dev half and a test half. The cut distance is
chosen on the dev half only (best adjusted Rand index; the larger distance on a tie); the
figures reported are the test half's, with 95 % bootstrap intervals (questions resampled,
1000 draws, seed 0). With ``$HELPDESK_DATASETS_DIR/clinc150`` present, the same distance is
also scored on seeded CLINC150 test queries (15 intents × 10 queries and 15 one-off
``oos`` queries), a public set it was never chosen on.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from benchmarks.report import metric, result_document
from bot.reports.gap_clusters import GAP_DISTANCE, cluster_labels

SEEDED = Path(__file__).resolve().parent / "data" / "gap-questions.yml"
DISTANCES = tuple(round(0.30 + 0.025 * i, 3) for i in range(21))  # 0.30 … 0.80
BOOTSTRAP = 1000


@dataclass(frozen=True)
class Labelled:
    texts: list[str]
    labels: list[str]  # the right cluster; each noise question its own


def load_seeded(path: Path = SEEDED) -> dict[str, Labelled]:
    """The ``dev`` and ``test`` halves of the seeded set."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    halves: dict[str, Labelled] = {"dev": Labelled([], []), "test": Labelled([], [])}
    for name, topic in data["topics"].items():
        half = halves[topic["split"]]
        for question in topic["questions"]:
            half.texts.append(question)
            half.labels.append(name)
    for split, questions in data["noise"].items():
        for i, question in enumerate(questions):
            halves[split].texts.append(question)
            halves[split].labels.append(f"noise-{split}-{i}")
    return halves


def purity(truth: Sequence[str], predicted: Sequence[int]) -> float:
    """Share of questions in a cluster whose most common right label is theirs."""
    groups: dict[int, Counter[str]] = {}
    for label, cluster in zip(truth, predicted, strict=True):
        groups.setdefault(cluster, Counter())[label] += 1
    return sum(c.most_common(1)[0][1] for c in groups.values()) / len(truth)


def scores(truth: Sequence[str], predicted: Sequence[int]) -> tuple[float, float, float]:
    """Adjusted Rand index, purity and inverse purity (how whole each right cluster stays)."""
    from sklearn.metrics import adjusted_rand_score

    inverse = purity([str(p) for p in predicted], [hash(t) for t in truth])
    return float(adjusted_rand_score(truth, predicted)), purity(truth, predicted), inverse


def choose_distance(vectors: np.ndarray, truth: Sequence[str]) -> tuple[float, list[dict]]:
    """The distance with the best adjusted Rand index on ``vectors`` (dev data only)."""
    sweep = []
    for distance in DISTANCES:
        ari, pur, inv = scores(truth, cluster_labels(vectors, distance))
        sweep.append(
            {
                "distance": distance,
                "ari": round(ari, 4),
                "purity": round(pur, 4),
                "inverse_purity": round(inv, 4),
            }
        )
    best = max(sweep, key=lambda row: (row["ari"], row["distance"]))
    return float(best["distance"]), sweep


def bootstrap(
    truth: Sequence[str], predicted: Sequence[int], draws: int = BOOTSTRAP, seed: int = 0
) -> dict[str, tuple[float, float]]:
    """95 % intervals of ARI and purity, questions resampled with replacement (the clustering
    is kept: this is the spread of the score over which questions came in)."""
    rng = random.Random(seed)
    n = len(truth)
    aris, purities = [], []
    for _ in range(draws):
        pick = [rng.randrange(n) for _ in range(n)]
        ari, pur, _ = scores([truth[i] for i in pick], [predicted[i] for i in pick])
        aris.append(ari)
        purities.append(pur)

    def interval(values: list[float]) -> tuple[float, float]:
        low, high = np.percentile(values, [2.5, 97.5])
        return round(float(low), 4), round(float(high), 4)

    return {"ari": interval(aris), "purity": interval(purities)}


def seeded_clinc(datasets_dir: Path, intents: int = 15, per_intent: int = 10) -> Labelled:
    """Seeded CLINC150 test queries: ``intents`` intents × ``per_intent`` queries, and as many
    ``oos`` queries as there are intents, each its own cluster."""
    from benchmarks.datasets import load_clinc150

    splits = load_clinc150(datasets_dir)
    by_intent = splits["test"].by_intent()
    oos = splits["oos_test"].texts
    rng = random.Random(0)
    names = rng.sample(sorted(k for k in by_intent if k != "out_of_scope"), intents)
    texts, labels = [], []
    for name in names:
        for text in rng.sample(by_intent[name], per_intent):
            texts.append(text)
            labels.append(name)
    for i, text in enumerate(rng.sample(oos, intents)):
        texts.append(text)
        labels.append(f"oos-{i}")
    return Labelled(texts, labels)


def run_gaps(embedder: Any, datasets_dir: Path | None = None) -> dict[str, Any]:
    halves = load_seeded()
    dev, test = halves["dev"], halves["test"]
    chosen, sweep = choose_distance(embedder.encode(dev.texts), dev.labels)
    rows = []
    extra: dict[str, Any] = {"chosen_on_dev": chosen, "product_distance": GAP_DISTANCE}
    sets = {"seeded test half": test, "seeded dev half": dev}
    if datasets_dir is not None and (datasets_dir / "clinc150").is_dir():
        sets["clinc150 seeded test"] = seeded_clinc(datasets_dir)
    for split, data in sets.items():
        predicted = cluster_labels(embedder.encode(data.texts), GAP_DISTANCE)
        ari, pur, inv = scores(data.labels, predicted)
        n = len(data.texts)
        rows += [
            metric(split, "adjusted_rand_index", ari, n),
            metric(split, "purity", pur, n),
            metric(split, "inverse_purity", inv, n),
            metric(split, "clusters_found", len(set(predicted)), n),
            metric(split, "clusters_right", len(set(data.labels)), n),
        ]
        extra.setdefault("intervals_95", {})[split] = bootstrap(data.labels, predicted)
    return result_document(
        "gaps",
        "seeded knowledge-gap questions (benchmarks/data/gap-questions.yml)"
        + (" + seeded CLINC150 test queries" if "clinc150 seeded test" in sets else ""),
        rows,
        sweep_on_dev=sweep,
        **extra,
    )
