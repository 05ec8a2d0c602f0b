"""A deterministic stand-in for the sentence encoder: hashed bag of words, L2-normalised.

Texts that share words get similar vectors, which is all the classifier tests need.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np


class HashingEmbedder:
    """Maps each word to a fixed random direction and sums them."""

    def __init__(self, dimension: int = 128, name: str = "fake-hashing") -> None:
        self._dimension = dimension
        self._name = name
        self.calls: list[list[str]] = []

    @property
    def model_name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        return self._dimension

    def _word(self, word: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:4], "little")
        return np.random.default_rng(seed).normal(size=self._dimension)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        rows = np.zeros((len(texts), self._dimension), dtype=np.float64)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                rows[i] += self._word(word)
            norm = np.linalg.norm(rows[i])
            rows[i] = rows[i] / norm if norm else rows[i]
        return rows.astype(np.float32)

    @property
    def encoded_texts(self) -> list[str]:
        return [text for call in self.calls for text in call]


def test_fake_vectors_are_deterministic_normalised_and_word_sensitive() -> None:
    first, second = HashingEmbedder(), HashingEmbedder()
    a, b, c = first.encode(["reset my password", "reset my password", "ship to canada"])

    assert np.allclose(a, second.encode(["reset my password"])[0])
    assert np.isclose(np.linalg.norm(a), 1.0)
    assert float(a @ b) > 0.99 > float(a @ c)
