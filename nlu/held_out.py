"""Held-out accuracy of a freshly trained model, cheap enough to run with every retrain.

A seeded 20 % of each intent's examples (intents with at least ``MIN_EXAMPLES``) is held out,
the same classifier is fitted on the rest (warm-started from the full model) and the held-out
examples are classified: a prediction counts when it names the example's own intent (out of
scope counts as wrong). Intents with fewer examples are trained on but not measured.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from nlu.classifier import IntentClassifier

__all__ = ["HOLD_OUT", "METHOD", "MIN_EXAMPLES", "held_out_accuracy"]

HOLD_OUT = 0.2
MIN_EXAMPLES = 5  # one example held out of five; fewer are too few to measure
SEED = 0
METHOD = f"held-out {HOLD_OUT:.0%} of each intent with ≥ {MIN_EXAMPLES} examples (seed {SEED})"


def held_out_accuracy(
    make: Callable[[], IntentClassifier],
    vectors: np.ndarray,
    labels: Sequence[str],
    texts: Sequence[str],
    *,
    previous: IntentClassifier | None = None,
    background: tuple[np.ndarray, Sequence[str]] | None = None,
) -> dict[str, Any]:
    """``{"method", "accuracy", "held_out", "per_intent": {intent: [right, held]}}``;
    ``accuracy`` is None when nothing could be held out."""
    rng = np.random.default_rng(SEED)
    held: list[int] = []
    for label in sorted(set(labels)):
        rows = [i for i, name in enumerate(labels) if name == label]
        if len(rows) >= MIN_EXAMPLES:
            count = max(1, int(len(rows) * HOLD_OUT))
            held += rng.choice(rows, size=count, replace=False).tolist()
    kept = sorted(set(range(len(labels))) - set(held))
    result: dict[str, Any] = {"method": METHOD, "accuracy": None, "held_out": 0, "per_intent": {}}
    if not held or len({labels[i] for i in kept}) < 2:
        return result
    classifier = make().fit(
        vectors[kept],
        [labels[i] for i in kept],
        texts=[texts[i] for i in kept],
        previous=previous,
        background=background,
    )
    found = classifier.predict_many(vectors[held], [texts[i] for i in held])
    per_intent: dict[str, list[int]] = {}
    for row, prediction in zip(held, found, strict=True):
        tally = per_intent.setdefault(labels[row], [0, 0])
        tally[0] += int(prediction.intent == labels[row])
        tally[1] += 1
    right = sum(r for r, _ in per_intent.values())
    result.update(accuracy=right / len(held), held_out=len(held), per_intent=per_intent)
    return result
