"""Evaluation reports: scoring rules and the three ways of splitting."""

from __future__ import annotations

import pytest

from nlu.evaluate import evaluate, score_predictions
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

    report = evaluate(DATA, HashingEmbedder(), test_data=test)

    assert report.method == "test file"
    assert report.out_of_scope_recall == 1.0
    assert report.in_scope_accuracy == 1.0
