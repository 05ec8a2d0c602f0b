"""What each fixed out-of-scope floor does on the bundled intents (``nlu/dialog`` + ``data/nlu``).

A report, not a choice: each floor of a grid is scored on

* the bundled data's in-scope accuracy, held out (20 %, seed 42) and by 5-fold
  cross-validation — the same splits as ``helpdesk nlu evaluate`` — with the default classifier
  trained on the rest, a rejected on-topic message counting as wrong; and
* the share of ``OFF_TOPIC_SAMPLE`` seeded CLINC150 ``oos_test`` queries (questions no help desk
  intent covers) that the classifiers of the 5 folds reject.

``oos_test`` is a test split, so the default floor (``nlu.classifier.FIXED_FLOOR``) is chosen
elsewhere, on training data only (``benchmarks.floor_sweep``, ``helpdesk bench sweep
fixed-floor``).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.datasets import load_clinc150
from benchmarks.report import metric, result_document
from benchmarks.vectors import cached_vectors
from nlu.classifier import OUT_OF_SCOPE, IntentClassifier, Thresholds
from nlu.embedding import Embedder
from nlu.training_data import load_training_data

OFF_TOPIC_SAMPLE = 300
FLOORS = tuple(round(float(f), 2) for f in np.arange(0.5, 1.301, 0.05))
# the sample desk's training data: the dialog's intents and the sample shop's topics
BUNDLED_DATA = [
    Path(__file__).resolve().parent.parent / "nlu" / "dialog",
    Path(__file__).resolve().parent.parent / "data" / "nlu",
]


def _answers(clf: IntentClassifier, vectors: np.ndarray, texts: list[str]) -> np.ndarray:
    """floor × row: each floor's answer for each row (``out_of_scope`` when rejected)."""
    found = clf.scores(vectors, texts)
    classes = np.array([*clf.classes, OUT_OF_SCOPE])  # column -1: no in-scope class
    always = classes[found.probabilities.argmax(axis=1)] == OUT_OF_SCOPE
    rejected = always[None, :] | (found.score[None, :] < np.array(FLOORS)[:, None])
    answers: np.ndarray = np.where(rejected, OUT_OF_SCOPE, classes[found.best][None, :])
    return answers


def run_floors(
    datasets_dir: Path, embedder: Embedder, data_path: list[Path] = BUNDLED_DATA
) -> dict:
    from sklearn.model_selection import StratifiedKFold, train_test_split

    texts, labels = load_training_data(data_path).pairs()
    x = cached_vectors("bundled-intents", texts, embedder)
    gold = np.array(labels)
    off_topic = load_clinc150(datasets_dir)["oos_test"].texts
    off_topic = random.Random(0).sample(off_topic, min(OFF_TOPIC_SAMPLE, len(off_topic)))
    off_x = cached_vectors("clinc150", off_topic, embedder)

    def fitted(rows: np.ndarray) -> IntentClassifier:
        return IntentClassifier().fit(
            x[rows], [labels[i] for i in rows], texts=[texts[i] for i in rows]
        )

    def held(rows: np.ndarray) -> list[str]:
        return [texts[i] for i in rows]

    everything = np.arange(len(texts))
    train_rows, test_rows = train_test_split(
        everything, test_size=0.2, stratify=gold, random_state=42
    )
    held_out = _answers(fitted(train_rows), x[test_rows], held(test_rows)) == gold[test_rows]
    folds: list[np.ndarray] = []
    caught: list[np.ndarray] = []
    splitter = StratifiedKFold(n_splits=5, shuffle=True, random_state=42)
    for train_rows, test_rows in splitter.split(x, gold):
        clf = fitted(train_rows)
        folds.append(_answers(clf, x[test_rows], held(test_rows)) == gold[test_rows])
        caught.append(_answers(clf, off_x, off_topic) == OUT_OF_SCOPE)
    cross = np.concatenate(folds, axis=1)
    rejected = np.concatenate(caught, axis=1)
    rows: list[dict[str, Any]] = []
    for i, floor in enumerate(FLOORS):
        split = f"floor {floor:.2f}"
        rows += [
            metric(split, "held_out_accuracy", held_out[i].mean(), held_out.shape[1]),
            metric(split, "5_fold_accuracy", cross[i].mean(), cross.shape[1]),
            metric(split, "off_topic_caught", rejected[i].mean(), rejected.shape[1]),
        ]
    return result_document(
        "bundled-floors",
        f"bundled intents (the dialog's and the sample shop's) + {len(off_topic)} seeded CLINC150 "
        "oos_test queries",
        rows,
        default_floor=Thresholds().score,
    )
