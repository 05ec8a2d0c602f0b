"""Evaluation: how well the classifier does on examples it was not trained on.

Three ways: a stratified, seeded held-out split of the training data (the default, 20 %);
k-fold cross-validation; or a separate Rasa test file, where examples of the intent
``out_of_scope`` measure out-of-scope recall. Predictions that are out of scope count as the
label ``out_of_scope``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from nlu.classifier import KEEP_IN_SCOPE, OUT_OF_SCOPE, IntentClassifier, Thresholds
from nlu.embedding import Embedder
from nlu.training_data import TrainingData
from nlu.vector_cache import Progress, VectorCache

__all__ = ["EvaluationReport", "IntentScore", "evaluate", "score_predictions"]


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

    def to_dict(self) -> dict[str, Any]:
        result = asdict(self)
        result["confused"] = [
            {"intent": gold, "predicted": predicted, "count": count}
            for gold, predicted, count in self.confused
        ]
        return result


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
    return EvaluationReport(
        method=method,
        examples=len(pairs),
        accuracy=round(sum(g == p for g, p in pairs) / len(pairs), 4),
        in_scope_accuracy=round(sum(g == p for g, p in in_scope) / len(in_scope), 4)
        if in_scope
        else 0.0,
        out_of_scope_recall=round(sum(p == OUT_OF_SCOPE for _, p in oos) / len(oos), 4)
        if oos
        else None,
        per_intent=per_intent,
        confused=[(g, p, n) for (g, p), n in confusions.most_common(top_confused)],
    )


def _predict_labels(
    classifier: IntentClassifier, vectors: np.ndarray, texts: Sequence[str]
) -> list[str]:
    return [p.intent or OUT_OF_SCOPE for p in classifier.predict_many(vectors, texts)]


def evaluate(
    data: TrainingData,
    embedder: Embedder,
    *,
    test_data: TrainingData | None = None,
    folds: int | None = None,
    holdout: float = 0.2,
    seed: int = 42,
    c: float = 10.0,
    thresholds: Thresholds | None = None,
    cache: VectorCache | None = None,
    progress: Progress | None = None,
) -> EvaluationReport:
    """Evaluate on ``test_data`` if given, else by ``folds``-fold CV, else by a held-out split."""
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

    if test_data is not None:
        predicted = _predict_labels(fitted(np.arange(len(texts))), test_x, test_texts)
        return score_predictions(test_labels, predicted, method="test file")
    if folds:
        from sklearn.model_selection import StratifiedKFold

        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        gold: list[str] = []
        predicted = []
        for train_rows, test_rows in splitter.split(train_x, y):
            held = [texts[i] for i in test_rows]
            predicted += _predict_labels(fitted(train_rows), train_x[test_rows], held)
            gold += [labels[i] for i in test_rows]
        return score_predictions(gold, predicted, method=f"{folds}-fold cross-validation")
    from sklearn.model_selection import train_test_split

    rows = np.arange(len(texts))
    train_rows, test_rows = train_test_split(rows, test_size=holdout, stratify=y, random_state=seed)
    held = [texts[i] for i in test_rows]
    predicted = _predict_labels(fitted(train_rows), train_x[test_rows], held)
    gold = [labels[i] for i in test_rows]
    return score_predictions(gold, predicted, method=f"held-out {holdout:g} (seed {seed})")
