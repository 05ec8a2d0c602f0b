"""The fixed floor of data that has ``out_of_scope`` examples (``nlu.classifier.FIXED_FLOOR``),
chosen on the bundled training data and the shipped off-topic messages only.

``helpdesk bench sweep fixed-floor`` reruns it. The bundled data (``nlu/dialog`` +
``data/nlu``) is split into ``BUNDLED_FOLDS`` stratified folds (seed ``BUNDLED_SEED``, the head
sweeps' folds); each fold's model, trained with the defaults on the other folds, scores

* its held-out on-topic examples: accuracy, a rejection counting as wrong;
* its held-out ``out_of_scope`` examples: the share rejected;
* the shipped off-topic messages (``nlu.background``): the share rejected. The bundled data has
  its own ``out_of_scope`` class, so a model trained on it never sees them.

No public data set is read, and neither is the bundled test file.

**The rule, written before the run:** the highest floor whose on-topic accuracy (mean over the
folds) stays within ``MAX_COST`` (1 point) of the accuracy with no floor — as strict as one point
of on-topic accuracy allows, the trade ``keep_in_scope`` makes too (``benchmarks.sweeps``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.floors import BUNDLED_DATA
from benchmarks.head_sweeps import BUNDLED_FOLDS, Rows, bundled_folds
from benchmarks.report import metric, result_document
from benchmarks.sweeps import MAX_COST
from benchmarks.vectors import cached_vectors
from nlu.background import OFF_TOPIC
from nlu.classifier import FIXED_FLOOR, OUT_OF_SCOPE, IntentClassifier
from nlu.embedding import Embedder

NO_FLOOR = float("-inf")
# From 0: with the neighbourhood term at weight 0.5 an on-topic score is at most 1.5, and at 0.5
# (the report's lowest floor in ``benchmarks.floors``) the floor already costs 8 points.
FLOORS = tuple(round(float(f), 2) for f in np.arange(0.0, 1.301, 0.05))


def _verdicts(
    clf: IntentClassifier, rows: Rows, floors: Sequence[float]
) -> tuple[np.ndarray, np.ndarray]:
    """(the best in-scope intent per row, floor × row: whether each floor rejects the row)."""
    found = clf.scores(rows.x, rows.texts)
    classes = np.array([*clf.classes, OUT_OF_SCOPE])  # column -1: no in-scope class
    always = (classes[found.probabilities.argmax(axis=1)] == OUT_OF_SCOPE) | (found.best < 0)
    rejected = always[None, :] | (found.score[None, :] < np.array(floors)[:, None])
    return classes[found.best], rejected


def choose_floor(on_topic: dict[float, float], floors: Sequence[float] = FLOORS) -> float:
    """The rule (module docstring); ``on_topic`` maps each floor, and ``NO_FLOOR``, to the mean
    on-topic accuracy."""
    fine = [f for f in floors if on_topic[f] >= on_topic[NO_FLOOR] - MAX_COST - 1e-9]
    return max(fine) if fine else min(floors)


def run_floor_sweep(
    embedder: Embedder,
    *,
    data_path: Sequence[Path] = BUNDLED_DATA,
    folds: int = BUNDLED_FOLDS,
    cache: str = "bundled-intents",
    progress: Callable[[str], None] = print,
) -> dict[str, Any]:
    data = bundled_folds(embedder, data_path, folds, cache)
    trained = {text for fit_on, held in data.folds[:1] for text in [*fit_on.texts, *held.texts]}
    messages = [text for text in OFF_TOPIC if text not in trained]
    background = Rows(
        cached_vectors("background", messages, embedder), messages, [OUT_OF_SCOPE] * len(messages)
    )
    grid = [NO_FLOOR, *FLOORS]
    on_topic: list[np.ndarray] = []  # fold × floor
    oos_caught: list[np.ndarray] = []
    bg_caught: list[np.ndarray] = []
    n_on = n_oos = 0
    for number, (fit_on, held) in enumerate(data.folds):
        clf = IntentClassifier().fit(fit_on.x, fit_on.labels, texts=fit_on.texts)
        gold = np.array(held.labels)
        in_scope = gold != OUT_OF_SCOPE
        best, rejected = _verdicts(clf, held, grid)
        right = (best == gold)[None, :] & ~rejected
        on_topic.append(right[:, in_scope].mean(axis=1))
        oos_caught.append(rejected[:, ~in_scope].mean(axis=1))
        bg_caught.append(_verdicts(clf, background, grid)[1].mean(axis=1))
        n_on += int(in_scope.sum())
        n_oos += int((~in_scope).sum())
        progress(f"  fold {number}: fitted")
    on = np.array(on_topic)
    mean_on = dict(zip(grid, on.mean(axis=0).tolist(), strict=True))
    rows: list[dict[str, Any]] = []
    spread: dict[str, float] = {}
    for i, floor in enumerate(grid):
        split = "no floor" if floor == NO_FLOOR else f"floor {floor:.2f}"
        rows += [
            metric(split, "on-topic accuracy", mean_on[floor], n_on),
            metric(
                split, "held-out out_of_scope rejected", np.mean([f[i] for f in oos_caught]), n_oos
            ),
            metric(
                split,
                "shipped off-topic rejected",
                np.mean([f[i] for f in bg_caught]),
                len(messages),
            ),
        ]
        spread[split] = round(float(on[:, i].std(ddof=1)), 4) if len(on) > 1 else 0.0
    return result_document(
        "sweep-fixed-floor",
        f"{data.name} of the bundled intents and the shipped off-topic messages (training data)",
        rows,
        rule=f"highest floor with on-topic accuracy within {MAX_COST:g} of no floor",
        chosen=choose_floor(mean_on),
        shipped=FIXED_FLOOR,
        on_topic_sd_over_folds=spread,
        folds=folds,
    )
