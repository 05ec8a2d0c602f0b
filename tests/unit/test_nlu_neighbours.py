"""The default intent head: logistic regression blended with a vote of the nearest examples,
and out-of-scope thresholds tuned on validation data."""

from __future__ import annotations

import numpy as np
import pytest

from nlu.classifier import OUT_OF_SCOPE, IntentClassifier, Thresholds
from nlu.thresholds import tune_thresholds

DIM = 16


def unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v)).astype(np.float32)


def axis(i: int) -> np.ndarray:
    return np.eye(DIM)[i]


@pytest.fixture
def odd_example_data() -> tuple[np.ndarray, list[str], np.ndarray]:
    """Intent "a" around axis 0, intent "b" around axis 1, plus one "b" example phrased like
    the "a" ones (it lies among them) — and a message that is almost that example."""
    rng = np.random.default_rng(0)
    a = [unit(axis(0) + 0.09 * rng.normal(size=DIM)) for _ in range(20)]
    b = [unit(axis(1) + 0.09 * rng.normal(size=DIM)) for _ in range(19)]
    odd = unit(axis(0) + 0.6 * axis(2))
    x = np.array([*a, *b, odd])
    message = unit(odd + 0.05 * axis(3))
    return x, ["a"] * 20 + ["b"] * 20, message


def test_a_message_matching_one_example_gets_that_examples_intent(
    odd_example_data: tuple[np.ndarray, list[str], np.ndarray],
) -> None:
    x, labels, message = odd_example_data
    open_door = Thresholds(score=-3.0)  # below every possible score
    linear_only = IntentClassifier(knn_weight=0.0, thresholds=open_door).fit(x, labels)
    blended = IntentClassifier(knn_weight=0.5, thresholds=open_door).fit(x, labels)

    assert linear_only.predict(message).intent == "a"  # the line is drawn by the majority
    assert blended.predict(message).intent == "b"  # the near-identical example decides


def test_neighbour_vote_survives_saving(
    odd_example_data: tuple[np.ndarray, list[str], np.ndarray],
) -> None:
    x, labels, message = odd_example_data
    clf = IntentClassifier(knn_weight=0.5, thresholds=Thresholds(score=-3.0)).fit(x, labels)
    copy = IntentClassifier.from_saved(clf.config(), clf.to_arrays())

    assert copy.predict(message) == clf.predict(message)
    assert copy.predict(message).intent == "b"


def test_tuned_thresholds_reject_off_topic_and_keep_on_topic_messages() -> None:
    rng = np.random.default_rng(1)
    train = [unit(axis(i % 3) + 0.1 * rng.normal(size=DIM)) for i in range(30)]
    labels = [f"intent{i % 3}" for i in range(30)]
    clf = IntentClassifier(thresholds=Thresholds(score=-3.0))
    clf.fit(np.array(train), labels)
    on_topic = [unit(axis(i % 3) + 0.1 * rng.normal(size=DIM)) for i in range(12)]
    off_topic = [unit(axis(5 + i % 4) + 0.3 * axis(i % 3)) for i in range(8)]
    val = np.array([*on_topic, *off_topic])
    val_labels = [f"intent{i % 3}" for i in range(12)] + [OUT_OF_SCOPE] * 8

    tuned, score = tune_thresholds(clf, val, val_labels)
    _, balanced = tune_thresholds(clf, val, val_labels, objective="balanced")
    clf.thresholds = tuned

    assert score == pytest.approx(1.0)  # every on-topic right, every off-topic caught
    assert balanced == pytest.approx(2.0)
    unseen_off = unit(axis(10) + 0.3 * axis(1))
    unseen_on = unit(axis(2) + 0.05 * axis(7))
    assert clf.predict(unseen_off).out_of_scope
    assert clf.predict(unseen_on).intent == "intent2"


def test_tuning_needs_both_kinds_of_validation_rows() -> None:
    clf = IntentClassifier().fit(np.array([unit(axis(0)), unit(axis(1))]), ["x", "y"])
    with pytest.raises(ValueError):
        tune_thresholds(clf, np.array([unit(axis(0))]), ["x"])


def test_retraining_from_the_previous_model_answers_like_training_from_scratch(
    odd_example_data: tuple[np.ndarray, list[str], np.ndarray],
) -> None:
    x, labels, message = odd_example_data
    labels = [*labels[:10], *(["c"] * 10), *labels[20:]]  # three intents
    first = IntentClassifier(knn_weight=0.0).fit(x, labels)
    extra = np.vstack([x, unit(axis(4))[None, :]])
    extra_labels = [*labels, "c"]

    warm = IntentClassifier(knn_weight=0.0).fit(extra, extra_labels, previous=first)
    cold = IntentClassifier(knn_weight=0.0).fit(extra, extra_labels)

    probes = np.array([message, unit(axis(4)), unit(axis(1)), unit(axis(0))])
    assert [p.intent for p in warm.predict_many(probes)] == [
        p.intent for p in cold.predict_many(probes)
    ]
    assert warm.predict(unit(axis(4))).ranking[0][0] == "c"
    np.testing.assert_allclose(warm.probabilities(probes), cold.probabilities(probes), atol=0.02)


def test_the_blend_weight_is_chosen_on_held_out_examples_and_kept_on_retrain() -> None:
    """Two intents laid out like XOR — each is two clusters on opposite sides — so no linear
    boundary separates them but the nearest examples do: the hold-out picks the vote."""
    rng = np.random.default_rng(2)
    centres = {
        0: [axis(0) + axis(1), -axis(0) - axis(1)],
        1: [axis(0) - axis(1), axis(1) - axis(0)],
    }
    x, labels = [], []
    for i in range(120):
        intent = i % 2
        x.append(unit(centres[intent][(i // 2) % 2] + 0.1 * rng.normal(size=DIM)))
        labels.append(f"intent{intent}")
    chosen = IntentClassifier().fit(np.array(x), labels)
    tiny = IntentClassifier().fit(np.array(x[:8]), labels[:8])
    retrained = IntentClassifier().fit(np.array(x), labels, previous=chosen)

    assert chosen.knn_weight is not None and chosen.knn_weight > 0
    assert tiny.knn_weight == 0.0  # too few examples to judge: the plain regression
    assert retrained.knn_weight == chosen.knn_weight


def test_a_recall_floor_trades_in_scope_accuracy_for_catching_off_topic() -> None:
    rng = np.random.default_rng(3)
    train = [unit(axis(i % 2) + 0.1 * rng.normal(size=DIM)) for i in range(40)]
    clf = IntentClassifier(knn_weight=0.0).fit(np.array(train), [f"i{i % 2}" for i in range(40)])
    # the off-topic rows sit ever closer to intent i0; some on-topic rows are phrased loosely
    off = [unit(axis(0) + d * axis(6)) for d in (3.0, 2.0, 1.5, 1.0)]
    on = [unit(axis(i % 2) + (0.1 if i > 6 else 0.35) * rng.normal(size=DIM)) for i in range(36)]
    val, val_labels = np.array([*on, *off]), [f"i{i % 2}" for i in range(36)] + [OUT_OF_SCOPE] * 4

    by_accuracy, _ = tune_thresholds(clf, val, val_labels)
    strict, in_scope_accuracy = tune_thresholds(clf, val, val_labels, min_oos_recall=1.0)

    def caught(thresholds: Thresholds) -> int:
        clf.thresholds = thresholds
        return sum(p.out_of_scope for p in clf.predict_many(np.array(off)))

    assert caught(strict) == 4  # every off-topic row, at the price of some on-topic ones
    assert in_scope_accuracy < 1.0
    assert caught(by_accuracy) < 4
