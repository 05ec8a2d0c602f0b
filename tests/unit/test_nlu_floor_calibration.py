"""The out-of-scope floor a model calibrates for itself when its data has no out-of-scope
examples: it keeps the asked share of held-out in-scope messages and rejects what lies far from
every intent."""

from __future__ import annotations

import numpy as np
import pytest

from nlu.classifier import (
    KEEP_IN_SCOPE,
    OUT_OF_SCOPE,
    IntentClassifier,
    Thresholds,
    calibrated_floor,
)

INTENTS = 8
PER_INTENT = 30
DIMENSION = 48


def _unit(rows: np.ndarray) -> np.ndarray:
    normalised: np.ndarray = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return normalised.astype(np.float32)


def clusters(seed: int, per_intent: int) -> tuple[np.ndarray, list[str]]:
    """Messages of ``INTENTS`` intents, each a noisy cloud around its own direction (the same
    directions for every seed, so two calls give training and held-out messages of one task)."""
    centres = np.random.default_rng(1234).normal(size=(INTENTS, DIMENSION))
    rng = np.random.default_rng(seed)
    rows = np.repeat(centres, per_intent, axis=0)
    rows = rows + rng.normal(scale=0.8, size=rows.shape)  # cosine ≈ .6 to the centre
    labels = [f"intent_{i}" for i in range(INTENTS) for _ in range(per_intent)]
    return _unit(rows), labels


def off_topic(count: int) -> np.ndarray:
    """Directions unrelated to every intent's (clearly off-topic messages)."""
    return _unit(np.random.default_rng(99).normal(size=(count, DIMENSION)))


@pytest.mark.parametrize("keep", [0.9, 0.95, 0.96, 0.99])
def test_the_floor_keeps_the_asked_share_of_held_out_scores(keep: float) -> None:
    scores = np.random.default_rng(7).uniform(0.5, 2.5, size=400)

    floor = calibrated_floor(scores, keep)

    kept = float(np.mean(scores >= floor))
    assert keep <= kept <= keep + 0.02


def test_the_floor_needs_scores_and_a_share() -> None:
    with pytest.raises(ValueError):
        calibrated_floor(np.array([]), 0.95)
    with pytest.raises(ValueError):
        calibrated_floor(np.array([1.0, 2.0]), 0.0)


def test_without_out_of_scope_data_off_topic_messages_are_rejected() -> None:
    x, labels = clusters(seed=0, per_intent=PER_INTENT)
    clf = IntentClassifier().fit(x, labels)
    held_x, held_labels = clusters(seed=1, per_intent=20)

    held = clf.predict_many(held_x)
    strangers = clf.predict_many(off_topic(200))

    assert clf.thresholds.score != Thresholds().score  # calibrated, not the fixed default
    answered = np.mean([p.intent == gold for p, gold in zip(held, held_labels, strict=True)])
    assert answered >= KEEP_IN_SCOPE - 0.05  # about the share it was asked to keep
    assert np.mean([p.out_of_scope for p in strangers]) >= 0.95


def test_a_fixed_floor_rejects_few_of_them() -> None:
    """The same task with the old fixed floor: why the floor is calibrated at all."""
    x, labels = clusters(seed=0, per_intent=PER_INTENT)
    fixed = IntentClassifier(keep_in_scope=None).fit(x, labels)

    strangers = fixed.predict_many(off_topic(200))

    assert fixed.thresholds == Thresholds()
    assert np.mean([p.out_of_scope for p in strangers]) < 0.5


def test_data_with_out_of_scope_examples_keeps_the_given_floor() -> None:
    x, labels = clusters(seed=0, per_intent=PER_INTENT)
    others = off_topic(PER_INTENT)

    clf = IntentClassifier().fit(np.vstack([x, others]), [*labels, *[OUT_OF_SCOPE] * PER_INTENT])

    assert clf.thresholds == Thresholds()


def test_a_retrain_keeps_the_floor_and_a_saved_model_its_setting() -> None:
    x, labels = clusters(seed=0, per_intent=PER_INTENT)
    first = IntentClassifier().fit(x, labels)
    more_x, more_labels = clusters(seed=2, per_intent=1)

    again = IntentClassifier().fit(np.vstack([x, more_x]), [*labels, *more_labels], previous=first)
    loaded = IntentClassifier.from_saved(first.config(), first.to_arrays())

    assert again.thresholds == first.thresholds
    assert loaded.keep_in_scope == first.keep_in_scope
    assert loaded.thresholds == first.thresholds
