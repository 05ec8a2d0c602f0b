"""The words of a message as features: TF-IDF of lower-cased words and word pairs.

A frozen sentence embedding blurs the one keyword that separates two close intents ("freeze my
card" vs "cancel my card"); the words themselves keep it. ``nlu.classifier`` appends these
features to the embedding before the logistic regression: +1.0 point on BANKING77 and +0.6 on
CLINC150 (``docs/benchmarks.md``).

``Lexicon.fit`` learns the vocabulary and inverse document frequencies with scikit-learn's
``TfidfVectorizer`` (words of two or more letters, unigrams and bigrams, sublinear term
frequency, smoothed idf, rows of unit length); ``transform`` computes the same features with the
standard library and numpy, so a loaded model parses without scikit-learn. Words the training
data never used carry no weight.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import pairwise

import numpy as np
from scipy import sparse

__all__ = ["Lexicon"]

TOKEN = re.compile(r"(?u)\b\w\w+\b")  # TfidfVectorizer's default token pattern
NGRAMS = (1, 2)


def terms_of(text: str) -> list[str]:
    """The unigrams and bigrams of ``text``, as ``TfidfVectorizer`` forms them."""
    words = TOKEN.findall(text.lower())
    found = list(words)
    found += [f"{a} {b}" for a, b in pairwise(words)]
    return found


@dataclass(frozen=True, eq=False)
class Lexicon:
    """A vocabulary (``terms``, one feature column each) and its inverse document frequencies."""

    terms: tuple[str, ...]
    idf: np.ndarray

    @classmethod
    def fit(cls, texts: Sequence[str]) -> Lexicon:
        from sklearn.feature_extraction.text import TfidfVectorizer

        vectorizer = TfidfVectorizer(ngram_range=NGRAMS, sublinear_tf=True)
        try:
            vectorizer.fit(texts)
        except ValueError:  # no word of two letters anywhere: an empty vocabulary
            return cls((), np.zeros(0, dtype=np.float32))
        terms = tuple(str(t) for t in vectorizer.get_feature_names_out())
        return cls(terms, np.asarray(vectorizer.idf_, dtype=np.float32))

    def __len__(self) -> int:
        return len(self.terms)

    @cached_property
    def columns(self) -> dict[str, int]:
        """Each term's feature column."""
        return {term: i for i, term in enumerate(self.terms)}

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """One row of unit length (or all zeros) per text, one column per term."""
        column = self.columns
        indptr = [0]
        indices: list[int] = []
        values: list[float] = []
        for text in texts:
            counts = Counter(c for c in map(column.get, terms_of(text)) if c is not None)
            row = sorted(counts)
            weights = np.array(
                [(1.0 + math.log(counts[c])) * float(self.idf[c]) for c in row], dtype=np.float64
            )
            norm = float(np.linalg.norm(weights)) if row else 0.0
            indices += row
            values += (weights / norm).tolist() if norm else []
            indptr.append(len(indices))
        return sparse.csr_matrix(
            (np.asarray(values, dtype=np.float32), indices, indptr),
            shape=(len(texts), len(self.terms)),
            dtype=np.float32,
        )
