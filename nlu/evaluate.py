"""Evaluation: how well the classifier does on examples it was not trained on.

Three ways: a stratified, seeded held-out split of the training data (the default, 20 %);
k-fold cross-validation; or a separate Rasa test file, where examples of the intent
``out_of_scope`` measure out-of-scope recall. Predictions that are out of scope count as the
label ``out_of_scope``.

Besides the classifier's own decision, the report gives ``dialog_accuracy``: the share of
messages on which the dialog acts rightly. The dialog acts on an intent only when its
confidence reaches ``intent_threshold`` (``helpdesk.yml``; ``bot.dialogs.states``), so an
intent below it counts as ``out_of_scope`` there. Accuracies come with a 95 % Wilson interval:
the bundled sets are small (92 held-out messages: one is 1.1 points).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from nlu.classifier import (
    KEEP_IN_SCOPE,
    LOGISTIC_C,
    OUT_OF_SCOPE,
    IntentClassifier,
    IntentPrediction,
    Thresholds,
)
from nlu.embedding import Embedder
from nlu.training_data import TrainingData
from nlu.vector_cache import Progress, VectorCache

__all__ = [
    "EvaluationReport",
    "IntentScore",
    "dialog_labels",
    "evaluate",
    "score_predictions",
    "wilson_interval",
    "with_dialog",
]

DIALOG_INTENT_THRESHOLD = 0.0  # DeskConfig.intent_threshold's default


@dataclass(frozen=True)
class IntentScore:
    intent: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class EvaluationReport:
    """Scores of one evaluation run. Rates are in [0, 1]."""

    method: str
    examples: int
    accuracy: float
    in_scope_accuracy: float
    out_of_scope_recall: float | None
    per_intent: list[IntentScore] = field(default_factory=list)
    confused: list[tuple[str, str, int]] = field(default_factory=list)  # gold, predicted, count
    accuracy_interval: tuple[float, float] = (0.0, 1.0)  # 95 % Wilson interval
    dialog_accuracy: float | None = None  # what the dialog acts on rightly (module docstring)
    dialog_accuracy_interval: tuple[float, float] | None = None
    intent_threshold: float | None = None

    def to_dict(self) -> dict[str, Any]:
        result = asdict(self)
        result["confused"] = [
            {"intent": gold, "predicted": predicted, "count": count}
            for gold, predicted, count in self.confused
        ]
        return result


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a proportion (95 % at z = 1.96), rounded to 4 places."""
    if n <= 0:
        return (0.0, 1.0)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (round(float(max(0.0, centre - half)), 4), round(float(min(1.0, centre + half)), 4))


def dialog_labels(predictions: Sequence[IntentPrediction], intent_threshold: float) -> list[str]:
    """What the dialog acts on: the intent when its confidence reaches the threshold, else
    ``out_of_scope`` (it asks the customer to rephrase, as for an off-topic message)."""
    return [
        p.intent if p.intent is not None and p.confidence >= intent_threshold else OUT_OF_SCOPE
        for p in predictions
    ]


def with_dialog(
    report: EvaluationReport, gold: Sequence[str], acted: Sequence[str], threshold: float
) -> EvaluationReport:
    """``report`` with the accuracy of what the dialog acts on (``dialog_labels``)."""
    right = sum(g == a for g, a in zip(gold, acted, strict=True))
    report.dialog_accuracy = round(right / len(gold), 4)
    report.dialog_accuracy_interval = wilson_interval(right, len(gold))
    report.intent_threshold = threshold
    return report


def score_predictions(
    gold: Sequence[str], predicted: Sequence[str], *, method: str = "", top_confused: int = 10
) -> EvaluationReport:
    """Score predicted labels against gold labels (``out_of_scope`` for out-of-scope)."""
    from sklearn.metrics import precision_recall_fscore_support

    if len(gold) != len(predicted) or not gold:
        raise ValueError("need as many predictions as gold labels, and at least one")
    pairs = list(zip(gold, predicted, strict=True))
    in_scope = [(g, p) for g, p in pairs if g != OUT_OF_SCOPE]
    oos = [(g, p) for g, p in pairs if g == OUT_OF_SCOPE]
    labels = sorted(set(gold) | set(predicted))
    precision, recall, f1, support = precision_recall_fscore_support(
        list(gold), list(predicted), labels=labels, zero_division=0
    )
    per_intent = [
        IntentScore(label, round(float(p), 4), round(float(r), 4), round(float(f), 4), int(s))
        for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
        if s > 0 or label != OUT_OF_SCOPE
    ]
    confusions = Counter((g, p) for g, p in pairs if g != p)
    right = sum(g == p for g, p in pairs)
    return EvaluationReport(
        method=method,
        examples=len(pairs),
        accuracy=round(right / len(pairs), 4),
        accuracy_interval=wilson_interval(right, len(pairs)),
        in_scope_accuracy=round(sum(g == p for g, p in in_scope) / len(in_scope), 4)
        if in_scope
        else 0.0,
        out_of_scope_recall=round(sum(p == OUT_OF_SCOPE for _, p in oos) / len(oos), 4)
        if oos
        else None,
        per_intent=per_intent,
        confused=[(g, p, n) for (g, p), n in confusions.most_common(top_confused)],
    )


def _predict(
    classifier: IntentClassifier, vectors: np.ndarray, texts: Sequence[str]
) -> list[IntentPrediction]:
    return classifier.predict_many(vectors, texts)


def _labels(predictions: Sequence[IntentPrediction]) -> list[str]:
    return [p.intent or OUT_OF_SCOPE for p in predictions]


def evaluate(
    data: TrainingData,
    embedder: Embedder,
    *,
    test_data: TrainingData | None = None,
    folds: int | None = None,
    holdout: float = 0.2,
    seed: int = 42,
    c: float = LOGISTIC_C,
    thresholds: Thresholds | None = None,
    cache: VectorCache | None = None,
    progress: Progress | None = None,
    intent_threshold: float = DIALOG_INTENT_THRESHOLD,
) -> EvaluationReport:
    """Evaluate on ``test_data`` if given, else by ``folds``-fold CV, else by a held-out split;
    ``intent_threshold`` is the dialog's (for ``dialog_accuracy``)."""
    texts, labels = data.pairs()
    test_texts, test_labels = test_data.pairs() if test_data is not None else ([], [])
    cache = cache or VectorCache.in_memory(embedder.model_name)
    vectors, _ = cache.encode([*texts, *test_texts], embedder, progress=progress)
    train_x, test_x = vectors[: len(texts)], vectors[len(texts) :]
    y = np.array(labels)

    def fitted(rows: np.ndarray) -> IntentClassifier:
        clf = IntentClassifier(
            c=c,
            thresholds=thresholds or Thresholds(),
            keep_in_scope=KEEP_IN_SCOPE if thresholds is None else None,
        )
        return clf.fit(train_x[rows], [labels[i] for i in rows], texts=[texts[i] for i in rows])

    def scored(gold: list[str], found: list[IntentPrediction], method: str) -> EvaluationReport:
        report = score_predictions(gold, _labels(found), method=method)
        acted = dialog_labels(found, intent_threshold)
        return with_dialog(report, gold, acted, intent_threshold)

    if test_data is not None:
        found = _predict(fitted(np.arange(len(texts))), test_x, test_texts)
        return scored(list(test_labels), found, "test file")
    if folds:
        from sklearn.model_selection import StratifiedKFold

        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        gold: list[str] = []
        found = []
        for train_rows, test_rows in splitter.split(train_x, y):
            held = [texts[i] for i in test_rows]
            found += _predict(fitted(train_rows), train_x[test_rows], held)
            gold += [labels[i] for i in test_rows]
        return scored(gold, found, f"{folds}-fold cross-validation")
    from sklearn.model_selection import train_test_split

    rows = np.arange(len(texts))
    train_rows, test_rows = train_test_split(rows, test_size=holdout, stratify=y, random_state=seed)
    held = [texts[i] for i in test_rows]
    found = _predict(fitted(train_rows), train_x[test_rows], held)
    gold = [labels[i] for i in test_rows]
    return scored(gold, found, f"held-out {holdout:g} (seed {seed})")
