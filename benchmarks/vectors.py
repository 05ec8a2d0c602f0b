"""Embeddings of data-set texts, cached on disk under ``benchmarks/.cache/`` so that a rerun of a
benchmark encodes nothing. Uses the project's own ``VectorCache`` (keyed by model and text)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nlu.embedding import Embedder
from nlu.vector_cache import VectorCache

CACHE_DIR = Path(__file__).resolve().parent / ".cache"


def cache_path(name: str) -> Path:
    return CACHE_DIR / f"{name}.npz"


def cached_vectors(name: str, texts: Sequence[str], embedder: Embedder) -> np.ndarray:
    """Vectors of ``texts`` (one row each), encoding and saving only what the cache lacks."""
    cache = VectorCache(cache_path(name), embedder.model_name)
    vectors, encoded = cache.encode(texts, embedder)
    if encoded:
        cache.save()
    return vectors
