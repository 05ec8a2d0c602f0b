"""Intent classification on frozen sentence embeddings, with out-of-scope detection.

A multinomial logistic regression (scikit-learn, balanced class weights) is trained on the
example vectors. A message is *out of scope* when

* the top class is the data's own ``out_of_scope`` intent, or
* the top in-scope probability is below ``Thresholds.probability``, or
* its cosine to the nearest in-scope training example is below ``Thresholds.similarity``.

Probabilities alone are overconfident far from the training data (a softmax always picks
something), which is why the nearest-example similarity is checked as well. The reported
``confidence`` combines both: ``probability × s``, where ``s`` rises linearly from 0 to 1 over
``similarity ± similarity_width`` (0.5 exactly at the floor). For an out-of-scope prediction the
confidence is that of the out-of-scope decision, ``1 − (best in-scope confidence)``.

The defaults were chosen with all-MiniLM-L6-v2 on the bundled data (5-fold cross-validation)
and a seeded sample of 300 CLINC150 ``oos_test`` queries (Larson et al. 2019) as unseen
off-topic input: in-scope accuracy 0.82 (0.84 with no out-of-scope checks at all) while 86 % of
the off-topic queries are caught. Raising both thresholds trades in-scope accuracy for recall.

Prediction uses the stored coefficients directly (numpy only), so a loaded model does not need
scikit-learn at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

__all__ = ["OUT_OF_SCOPE", "IntentClassifier", "IntentPrediction", "Thresholds"]

OUT_OF_SCOPE = "out_of_scope"


@dataclass(frozen=True)
class Thresholds:
    """When a prediction counts as out of scope (see the module docstring)."""

    probability: float = 0.2
    similarity: float = 0.35
    similarity_width: float = 0.1

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class IntentPrediction:
    """The classifier's answer for one message.

    ``intent`` is None when the message is out of scope; ``ranking`` always lists every class
    with its probability, best first; ``similarity`` is the cosine to the nearest in-scope
    training example.
    """

    intent: str | None
    confidence: float
    ranking: list[tuple[str, float]]
    out_of_scope: bool
    similarity: float = 0.0


@dataclass
class IntentClassifier:
    """Logistic regression over normalised sentence vectors plus out-of-scope checks."""

    c: float = 10.0
    thresholds: Thresholds = field(default_factory=Thresholds)
    max_iter: int = 2000
    classes: list[str] = field(default_factory=list)
    coef: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    intercept: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    in_scope_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))

    @property
    def is_fitted(self) -> bool:
        return bool(self.classes)

    def fit(self, vectors: np.ndarray, labels: Sequence[str]) -> IntentClassifier:
        """Train on one row per example; ``labels`` names each row's intent."""
        x = np.asarray(vectors, dtype=np.float32)
        if x.ndim != 2 or x.shape[0] != len(labels) or not len(labels):
            raise ValueError("fit needs one vector per label and at least one example")
        classes = sorted(set(labels))
        if len(classes) == 1:
            self.coef = np.zeros((1, x.shape[1]), dtype=np.float32)
            self.intercept = np.zeros(1, dtype=np.float32)
        else:
            from sklearn.linear_model import LogisticRegression

            model = LogisticRegression(C=self.c, class_weight="balanced", max_iter=self.max_iter)
            model.fit(x, list(labels))
            coef = np.asarray(model.coef_, dtype=np.float32)
            intercept = np.asarray(model.intercept_, dtype=np.float32)
            if len(classes) == 2:  # sklearn's binary form: one row for the second class
                coef = np.vstack([np.zeros_like(coef), coef])
                intercept = np.concatenate([np.zeros(1, dtype=np.float32), intercept])
            classes = [str(c) for c in model.classes_]
            self.coef, self.intercept = coef, intercept
        self.classes = classes
        in_scope = np.array([label != OUT_OF_SCOPE for label in labels])
        self.in_scope_vectors = np.ascontiguousarray(x[in_scope])
        return self

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """Class probabilities, one row per vector, columns in ``classes`` order."""
        if not self.is_fitted:
            raise RuntimeError("the classifier is not trained")
        logits = np.atleast_2d(vectors).astype(np.float32) @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        probs: np.ndarray = exp / exp.sum(axis=1, keepdims=True)
        return probs

    def nearest_similarity(self, vectors: np.ndarray) -> np.ndarray:
        """Cosine of each vector to its nearest in-scope training example."""
        x = np.atleast_2d(vectors).astype(np.float32)
        if not len(self.in_scope_vectors):
            return np.zeros(len(x), dtype=np.float32)
        sims: np.ndarray = (x @ self.in_scope_vectors.T).max(axis=1)
        return sims

    def predict(self, vector: np.ndarray) -> IntentPrediction:
        """Classify one normalised vector."""
        return self.predict_many(np.atleast_2d(vector))[0]

    def predict_many(self, vectors: np.ndarray) -> list[IntentPrediction]:
        probs = self.probabilities(vectors)
        sims = self.nearest_similarity(vectors)
        return [self._decide(row, float(sim)) for row, sim in zip(probs, sims, strict=True)]

    def _decide(self, probs: np.ndarray, similarity: float) -> IntentPrediction:
        order = np.argsort(-probs, kind="stable")
        ranking = [(self.classes[i], round(float(probs[i]), 6)) for i in order]
        in_scope = [(name, p) for name, p in ranking if name != OUT_OF_SCOPE]
        best, best_p = in_scope[0] if in_scope else (OUT_OF_SCOPE, 0.0)
        confidence = best_p * self._similarity_factor(similarity)
        out_of_scope = (
            ranking[0][0] == OUT_OF_SCOPE
            or not in_scope
            or best_p < self.thresholds.probability
            or similarity < self.thresholds.similarity
        )
        if out_of_scope:
            return IntentPrediction(None, round(1.0 - confidence, 6), ranking, True, similarity)
        return IntentPrediction(best, round(confidence, 6), ranking, False, similarity)

    def _similarity_factor(self, similarity: float) -> float:
        width = max(self.thresholds.similarity_width, 1e-6)
        low = self.thresholds.similarity - width
        return float(min(1.0, max(0.0, (similarity - low) / (2 * width))))

    # --- persistence: plain arrays and a JSON-able config, no pickles ---

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {
            "coef": self.coef,
            "intercept": self.intercept,
            "in_scope_vectors": self.in_scope_vectors,
        }

    def config(self) -> dict[str, Any]:
        return {
            "c": self.c,
            "max_iter": self.max_iter,
            "classes": self.classes,
            "thresholds": self.thresholds.to_dict(),
        }

    @classmethod
    def from_saved(
        cls, config: Mapping[str, Any], arrays: Mapping[str, np.ndarray]
    ) -> IntentClassifier:
        return cls(
            c=float(config["c"]),
            max_iter=int(config["max_iter"]),
            thresholds=Thresholds(**config["thresholds"]),
            classes=[str(c) for c in config["classes"]],
            coef=np.asarray(arrays["coef"], dtype=np.float32),
            intercept=np.asarray(arrays["intercept"], dtype=np.float32),
            in_scope_vectors=np.asarray(arrays["in_scope_vectors"], dtype=np.float32),
        )
