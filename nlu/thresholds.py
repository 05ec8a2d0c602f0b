"""Choosing the out-of-scope thresholds on labelled validation data.

``tune_thresholds`` tries a grid of (probability, similarity) floors on a fitted classifier and
keeps the pair that scores best on the validation rows (rows labelled ``out_of_scope`` are the
off-topic examples): ``objective="accuracy"`` counts every row alike (an off-topic row is right
when rejected), ``"balanced"`` adds in-scope accuracy and out-of-scope recall, which weighs a
few off-topic rows as much as many on-topic ones; ``min_oos_recall=r`` keeps the best in-scope
accuracy among the pairs that catch at least ``r`` of the off-topic rows. This is the
"threshold" protocol of Larson et al. (2019): the floors are set on the validation split only,
never on the test split.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Literal

import numpy as np

from nlu.classifier import OUT_OF_SCOPE, IntentClassifier, Thresholds

__all__ = ["tune_thresholds"]

PROBABILITY_GRID = tuple(round(x, 2) for x in np.arange(0.0, 0.96, 0.05))
SIMILARITY_GRID = tuple(round(x, 2) for x in np.arange(0.0, 0.81, 0.025))


def tune_thresholds(
    classifier: IntentClassifier,
    vectors: np.ndarray,
    labels: Sequence[str],
    *,
    objective: Literal["accuracy", "balanced"] = "accuracy",
    min_oos_recall: float | None = None,
) -> tuple[Thresholds, float]:
    """The best thresholds for ``classifier`` on these rows and their score (accuracy 0..1, or
    in-scope accuracy + out-of-scope recall 0..2). Needs in-scope and ``out_of_scope`` rows."""
    gold = np.array(labels)
    oos = gold == OUT_OF_SCOPE
    if oos.all() or not oos.any():
        raise ValueError("tuning needs in-scope and out_of_scope validation examples")
    probs = classifier.probabilities(vectors)
    sims = classifier.nearest_similarity(vectors)
    in_scope_cols = [i for i, c in enumerate(classifier.classes) if c != OUT_OF_SCOPE]
    best_col = np.array(in_scope_cols)[probs[:, in_scope_cols].argmax(axis=1)]
    best_p = probs[np.arange(len(probs)), best_col]
    top_is_oos = np.array([classifier.classes[i] == OUT_OF_SCOPE for i in probs.argmax(axis=1)])
    correct = np.array(classifier.classes)[best_col] == gold
    best: tuple[float, float, float] = (-1.0, 0.0, 0.0)
    for p_floor in PROBABILITY_GRID:
        for s_floor in SIMILARITY_GRID:
            rejected = top_is_oos | (best_p < p_floor) | (sims < s_floor)
            right_in, right_out = correct[~oos] & ~rejected[~oos], rejected[oos]
            if min_oos_recall is not None:
                ok = np.mean(right_out) >= min_oos_recall
                # out of reach: the pair that comes closest to the floor
                score = float(np.mean(right_in)) if ok else float(np.mean(right_out)) - 1.0
            elif objective == "balanced":
                score = float(np.mean(right_in) + np.mean(right_out))
            else:
                score = float((right_in.sum() + right_out.sum()) / len(gold))
            if score > best[0]:
                best = (score, p_floor, s_floor)
    tuned = replace(classifier.thresholds, probability=best[1], similarity=best[2])
    return tuned, best[0]
