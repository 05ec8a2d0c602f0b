"""What the nearest training examples say about a message, from its cosine similarities to them.

Both functions take ``sims`` (one row per message, one column per training example) and the
examples' class columns ``labels``; ``nlu.classifier`` uses them for the neighbour vote that is
blended with the regression and for the out-of-scope score.
"""

from __future__ import annotations

import numpy as np

__all__ = ["neighbour_votes", "neighbourhood"]


def neighbour_votes(
    sims: np.ndarray, labels: np.ndarray, classes: int, k: int, temperature: float
) -> np.ndarray:
    """Class distribution of the ``k`` nearest examples, each weighed by exp(cosine / T)."""
    k = min(k, sims.shape[1])
    top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    top_sims = np.take_along_axis(sims, top, axis=1)
    weights = np.exp((top_sims - top_sims.max(axis=1, keepdims=True)) / temperature)
    votes = np.zeros((len(sims), classes), dtype=sims.dtype)
    rows = np.repeat(np.arange(len(sims)), k)
    np.add.at(votes, (rows, labels[top].reshape(-1)), weights.reshape(-1))
    normalised: np.ndarray = votes / votes.sum(axis=1, keepdims=True)
    return normalised


def neighbourhood(sims: np.ndarray, labels: np.ndarray, best: np.ndarray, k: int) -> np.ndarray:
    """Mean cosine of each row to the ``k`` nearest examples of its class ``best[row]`` (all of
    them when the class has fewer)."""
    result = np.zeros(len(sims), dtype=np.float32)
    for column in np.unique(best):
        rows = np.flatnonzero(best == column)
        own = sims[np.ix_(rows, np.flatnonzero(labels == column))]
        n = min(k, own.shape[1])
        result[rows] = -np.partition(-own, n - 1, axis=1)[:, :n].mean(axis=1)
    return result
