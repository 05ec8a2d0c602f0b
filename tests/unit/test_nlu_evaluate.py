"""Evaluation reports: scoring rules and the three ways of splitting."""

from __future__ import annotations

import pytest

from nlu.classifier import OUT_OF_SCOPE, IntentPrediction, Thresholds
from nlu.evaluate import dialog_labels, evaluate, score_predictions, wilson_interval, with_dialog
from nlu.training_data import parse_training_yaml, to_rasa_yaml
from tests.unit.test_nlu_fakes import HashingEmbedder


def test_scores_count_out_of_scope_separately() -> None:
    gold = ["greet", "greet", "order", "order", "out_of_scope", "out_of_scope"]
    predicted = ["greet", "order", "order", "out_of_scope", "out_of_scope", "greet"]

    report = score_predictions(gold, predicted, method="x")

    assert report.accuracy == pytest.approx(3 / 6, abs=1e-4)
    assert report.in_scope_accuracy == 0.5
    assert report.out_of_scope_recall == 0.5
    greet = next(s for s in report.per_intent if s.intent == "greet")
    assert (greet.precision, greet.recall, greet.support) == (0.5, 0.5, 2)
    assert ("greet", "order", 1) in report.confused
    assert report.to_dict()["confused"][0].keys() == {"intent", "predicted", "count"}


def test_no_out_of_scope_gold_means_no_recall() -> None:
    report = score_predictions(["a", "b"], ["a", "out_of_scope"])

    assert report.out_of_scope_recall is None
    assert report.in_scope_accuracy == 0.5


DATA = parse_training_yaml(
    to_rasa_yaml(
        {
            "login": [f"password problem number {i}" for i in range(10)],
            "order": [f"order tracking question {i}" for i in range(10)],
            "greet": [f"hello hello friend {i}" for i in range(10)],
        }
    )
)


def test_holdout_and_cross_validation_cover_the_data() -> None:
    holdout = evaluate(DATA, HashingEmbedder(), holdout=0.2, seed=1)
    folds = evaluate(DATA, HashingEmbedder(), folds=5)

    assert holdout.examples == 6 and holdout.method.startswith("held-out 0.2")
    assert folds.examples == 30 and folds.method == "5-fold cross-validation"
    assert folds.in_scope_accuracy == 1.0


def test_test_file_measures_out_of_scope_recall() -> None:
    test = parse_training_yaml(
        to_rasa_yaml(
            {
                "login": ["password problem again"],
                "out_of_scope": ["capital of mongolia", "banana bread recipe"],
            }
        )
    )

    # A floor of its own: with three intents the top probability alone is at least a third,
    # which clears the fixed default chosen on the bundled data's many intents.
    report = evaluate(DATA, HashingEmbedder(), test_data=test, thresholds=Thresholds(score=0.75))

    assert report.method == "test file"
    assert report.out_of_scope_recall == 1.0
    assert report.in_scope_accuracy == 1.0


def test_the_dialog_does_not_act_on_intents_below_its_threshold() -> None:
    found = [
        IntentPrediction("greet", 0.9, [("greet", 0.9)], False),
        IntentPrediction("greet", 0.45, [("greet", 0.9)], False),  # kept by the floor, not acted on
        IntentPrediction(None, 0.8, [("greet", 0.3)], True),
    ]

    gold = ["greet", "greet", OUT_OF_SCOPE]

    acted = dialog_labels(found, 0.5)
    report = with_dialog(
        score_predictions(gold, [p.intent or OUT_OF_SCOPE for p in found]), gold, acted, 0.5
    )

    assert acted == ["greet", OUT_OF_SCOPE, OUT_OF_SCOPE]
    assert report.accuracy == 1.0
    assert report.dialog_accuracy == round(2 / 3, 4)


def test_small_sets_get_wide_intervals() -> None:
    small = wilson_interval(76, 92)
    large = wilson_interval(7600, 9200)

    assert small[0] < 76 / 92 < small[1]
    assert small[1] - small[0] > 0.1 > 5 * (large[1] - large[0])
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(10, 10)[1] == 1.0
