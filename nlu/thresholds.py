"""Choosing the out-of-scope floor on labelled validation data.

``tune_thresholds`` tries a grid of floors for the classifier's in-scope score (see
``nlu.classifier``) on a fitted classifier and keeps the one that scores best on the validation
rows (rows labelled ``out_of_scope`` are the off-topic examples): ``objective="accuracy"``
counts every row alike (an off-topic row is right when rejected), ``"balanced"`` adds in-scope
accuracy and out-of-scope recall, which weighs a few off-topic rows as much as many on-topic
ones; ``min_oos_recall=r`` keeps the best in-scope accuracy among the floors that catch at least
``r`` of the off-topic rows. This is the "threshold" protocol of Larson et al. (2019): the floor
is set on the validation split only, never on the test split. On a tie the lowest floor wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Literal

import numpy as np

from nlu.classifier import OUT_OF_SCOPE, IntentClassifier, Thresholds

__all__ = ["SCORE_GRID", "tune_thresholds"]

SCORE_GRID = tuple(round(float(x), 2) for x in np.arange(0.0, 3.001, 0.01))


def tune_thresholds(
    classifier: IntentClassifier,
    vectors: np.ndarray,
    labels: Sequence[str],
    *,
    texts: Sequence[str] | None = None,
    objective: Literal["accuracy", "balanced"] = "accuracy",
    min_oos_recall: float | None = None,
) -> tuple[Thresholds, float]:
    """The best thresholds for ``classifier`` on these rows (whose ``texts`` a classifier with
    word features needs) and their score (accuracy 0..1, or in-scope accuracy + out-of-scope
    recall 0..2). Needs in-scope and ``out_of_scope`` rows."""
    gold = np.array(labels)
    oos = gold == OUT_OF_SCOPE
    if oos.all() or not oos.any():
        raise ValueError("tuning needs in-scope and out_of_scope validation examples")
    found = classifier.scores(vectors, texts)
    classes = np.array([*classifier.classes, OUT_OF_SCOPE])  # column -1: no in-scope class
    top_is_oos = classes[found.probabilities.argmax(axis=1)] == OUT_OF_SCOPE
    always_out = top_is_oos | (found.best < 0)
    correct = classes[found.best] == gold
    floors = np.array(SCORE_GRID)
    rejected = always_out[None, :] | (found.score[None, :] < floors[:, None])  # floor × row
    right_in = (correct[~oos][None, :] & ~rejected[:, ~oos]).mean(axis=1)
    right_out = rejected[:, oos].mean(axis=1)
    if min_oos_recall is not None:
        # out of reach: the floor that comes closest to the recall asked for
        scores = np.where(right_out >= min_oos_recall, right_in, right_out - 1.0)
    elif objective == "balanced":
        scores = right_in + right_out
    else:
        scores = (right_in * (~oos).sum() + right_out * oos.sum()) / len(gold)
    best = int(np.argmax(scores))  # the first (lowest) best floor
    return replace(classifier.thresholds, score=float(floors[best])), float(scores[best])
