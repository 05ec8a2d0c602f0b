"""A disk cache of example embeddings, so retraining only encodes new or changed examples.

Entries are keyed by ``sha256(model name + text)`` and stored as one ``.npz`` (string keys and a
float32 matrix; no pickles). A cache written for another model simply never matches.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from nlu.embedding import Embedder

__all__ = ["Progress", "VectorCache"]

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
"""Called as ``progress(stage, done, total)``, e.g. ``("encoding", 120, 480)``."""


class VectorCache:
    """Example vectors on disk, keyed by model and text."""

    def __init__(self, path: Path | None, model_name: str) -> None:
        self.path = path
        self.model_name = model_name
        self._vectors: dict[str, np.ndarray] = {}
        self._load()

    @classmethod
    def in_memory(cls, model_name: str) -> VectorCache:
        """A cache that lives only as long as the object (``save`` does nothing)."""
        return cls(None, model_name)

    def key(self, text: str) -> str:
        return hashlib.sha256(f"{self.model_name}\x00{text}".encode()).hexdigest()

    def _load(self) -> None:
        if self.path is None or not self.path.exists():
            return
        try:
            with np.load(self.path, allow_pickle=False) as npz:
                keys, vectors = npz["keys"], npz["vectors"]
            self._vectors = {str(k): v for k, v in zip(keys, vectors, strict=True)}
        except (OSError, ValueError, KeyError) as exc:
            logger.warning("ignoring unreadable embedding cache %s: %s", self.path, exc)
            self._vectors = {}

    def encode(
        self,
        texts: Sequence[str],
        embedder: Embedder,
        *,
        progress: Progress | None = None,
        batch_size: int = 64,
    ) -> tuple[np.ndarray, int]:
        """Vectors for ``texts`` (one row each) and how many texts had to be encoded."""
        missing = list(dict.fromkeys(t for t in texts if self.key(t) not in self._vectors))
        total = len(missing)
        if progress is not None:
            progress("encoding", 0, total)
        for start in range(0, total, batch_size):
            batch = missing[start : start + batch_size]
            fresh = np.asarray(embedder.encode(batch), dtype=np.float32)
            for text, vector in zip(batch, fresh, strict=True):
                self._vectors[self.key(text)] = vector
            if progress is not None:
                progress("encoding", min(start + batch_size, total), total)
        if not texts:
            return np.zeros((0, 0), dtype=np.float32), 0
        return np.stack([self._vectors[self.key(t)] for t in texts]), total

    def save(self, keep: Iterable[str] | None = None) -> None:
        """Write the cache; with ``keep``, only the entries for those texts (drops stale ones)."""
        if self.path is None:
            return
        if keep is not None:
            wanted = {self.key(t) for t in keep}
            self._vectors = {k: v for k, v in self._vectors.items() if k in wanted}
        keys = np.array(sorted(self._vectors), dtype="<U64")
        vectors = (
            np.stack([self._vectors[k] for k in keys]).astype(np.float32)
            if len(keys)
            else np.zeros((0, 0), dtype=np.float32)
        )
        buffer = io.BytesIO()
        np.savez(buffer, keys=keys, vectors=vectors)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        tmp.write_bytes(buffer.getvalue())
        tmp.replace(self.path)
