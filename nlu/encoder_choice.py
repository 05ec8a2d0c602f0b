"""Which encoder serves: the ONNX export when it exists (or can be made), else torch.

``auto`` exports once on first use (torch is needed for that step only) and serves the export
from then on; ``onnx`` insists on it; ``torch`` keeps the sentence-transformers encoder.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

from nlu.embedding import Embedder, SentenceTransformerEmbedder
from nlu.onnx_encoder import EncoderExportError, OnnxEmbedder, Progress, export_onnx, matches_source

__all__ = ["EncoderChoice", "select_embedder"]

logger = logging.getLogger(__name__)

EncoderChoice = Literal["auto", "onnx", "torch"]


def select_embedder(
    directory: Path, choice: EncoderChoice = "auto", progress: Progress | None = None
) -> Embedder:
    """The encoder to serve with; ``directory`` holds (or will hold) the ONNX export."""
    if choice == "torch":
        return SentenceTransformerEmbedder()
    if not _onnxruntime_available():
        if choice == "onnx":
            raise EncoderExportError("HELPDESK_ENCODER=onnx needs onnxruntime installed")
        return SentenceTransformerEmbedder()
    if matches_source(directory):
        return OnnxEmbedder(directory)
    try:
        export_onnx(directory, progress=progress)
    except EncoderExportError as exc:
        if choice == "onnx":
            raise
        logger.warning("%s", exc)
        return SentenceTransformerEmbedder()
    return OnnxEmbedder(directory)


def _onnxruntime_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None
