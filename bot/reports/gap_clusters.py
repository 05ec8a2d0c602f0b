"""Grouping questions by meaning: agglomerative clustering (average linkage) of their
normalised sentence vectors, cut at one cosine distance.

Average linkage keeps a group together only while its questions are, on average, that close
to each other — a chain of near neighbours (single linkage) would merge "refund" into
"return" into "exchange". ``GAP_DISTANCE`` is chosen on the dev half of the seeded benchmark
(``helpdesk bench gaps``, docs/benchmarks.md), never on the half it is reported on.
scikit-learn is imported only when there is something to group.
"""

from __future__ import annotations

import numpy as np

# chosen on the dev half of benchmarks/data/gap-questions.yml (helpdesk bench gaps)
GAP_DISTANCE = 0.70


def cluster_labels(vectors: np.ndarray, distance: float = GAP_DISTANCE) -> list[int]:
    """One label per row of ``vectors`` (L2-normalised); rows closer than ``distance`` on
    average (cosine distance, 1 − cosine similarity) share a label. Labels are numbered in
    order of each group's first row, so the same input always gives the same labels."""
    count = len(vectors)
    if count == 0:
        return []
    if count == 1:
        return [0]
    from sklearn.cluster import AgglomerativeClustering

    raw = AgglomerativeClustering(
        n_clusters=None, distance_threshold=distance, metric="cosine", linkage="average"
    ).fit_predict(np.asarray(vectors, dtype=np.float64))
    renumbered: dict[int, int] = {}
    return [renumbered.setdefault(int(label), len(renumbered)) for label in raw]
