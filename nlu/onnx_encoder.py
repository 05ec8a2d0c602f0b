"""The same sentence encoder run by ONNX Runtime, so a serving process never imports torch.

``export_onnx`` turns the packaged sentence-transformers model into one ONNX graph (transformer,
mean pooling and L2 normalisation together) plus its ``tokenizer.json``, checks the graph's vectors
against the torch encoder and only then moves the files into place. Torch is needed for that one
step; ``OnnxEmbedder`` then needs only ``onnxruntime`` and ``tokenizers``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nlu.embedding import DEFAULT_MODEL_NAME, default_model_path

__all__ = [
    "MIN_COSINE",
    "EncoderExportError",
    "OnnxEmbedder",
    "export_onnx",
    "is_exported",
]

GRAPH = "encoder.onnx"
TOKENIZER = "tokenizer.json"
MANIFEST = "encoder.json"
MIN_COSINE = 0.9999
"""The export is used only if every check text's vector is at least this close to torch's."""

_INPUTS = ("input_ids", "attention_mask", "token_type_ids")

# Varied on purpose: short and long, several languages, digits, punctuation, emoji, and one text
# longer than the encoder's window, so truncation is checked too.
CHECK_TEXTS: tuple[str, ...] = (
    "hello",
    "hi",
    "?",
    "how do I reset my password?",
    "I forgot my password and the reset email never arrived",
    "where is my order? it has not arrived yet",
    "my hub does not connect to the wifi since yesterday",
    "talk to a person",
    "I want a refund for order #48213",
    "cancel my subscription please",
    "The app crashes every time I open the settings page on Android 14.",
    "Can I change the delivery address after the order shipped?",
    "thanks, that worked!",
    "no",
    "this is useless, nothing works!!!",
    "¿Dónde está mi pedido? Todavía no ha llegado a mi casa.",
    "Je n'arrive pas à me connecter à mon compte.",
    "Mein Gerät lässt sich nicht mehr einschalten.",
    "Il mio ordine è arrivato danneggiato.",
    "Minha fatura está errada este mês.",
    "パスワードを忘れました",
    "我的订单在哪里",
    "Где мой заказ?",
    "invoice 2024-03-17 total 129.99 EUR VAT 21%",
    "🙂🙂 the light keeps blinking red 🔴",
    "HTTP 502 Bad Gateway when calling /api/v2/devices",
    "firmware v3.2.1 update failed at 47%",
    "   leading and trailing spaces   ",
    "UPPER CASE MESSAGE ABOUT BILLING",
    "a b c d e f g h i j k l m n o p",
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.",
    " ".join(["the hub disconnects from the network every few minutes"] * 40),
)

Progress = Callable[[str, int, int], None]


class EncoderExportError(RuntimeError):
    """The ONNX export could not be made or does not reproduce the torch encoder's vectors."""


def is_exported(directory: Path) -> bool:
    return all((directory / name).is_file() for name in (GRAPH, TOKENIZER, MANIFEST))


class OnnxEmbedder:
    """An exported encoder (see ``export_onnx``) on ONNX Runtime, loaded on first use.

    It reports the torch encoder's model name: the vectors are the same (checked at export), so
    the intent model, the knowledge index and the vector caches stay valid across a switch."""

    def __init__(self, directory: Path, *, batch_size: int = 64, threads: int = 0) -> None:
        self._directory = directory
        self._batch_size = batch_size
        self._threads = threads
        self._manifest: dict[str, Any] = json.loads((directory / MANIFEST).read_text("utf-8"))
        self._session: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    @property
    def model_name(self) -> str:
        return str(self._manifest["model_name"])

    @property
    def dimension(self) -> int:
        return int(self._manifest["dimension"])

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._session is None:
                import onnxruntime
                from tokenizers import Tokenizer

                tokenizer = Tokenizer.from_file(str(self._directory / TOKENIZER))
                tokenizer.enable_truncation(max_length=int(self._manifest["max_seq_length"]))
                pad_id = int(self._manifest["pad_id"])
                tokenizer.enable_padding(pad_id=pad_id, pad_token=str(self._manifest["pad_token"]))
                options = onnxruntime.SessionOptions()
                # Idle worker threads would otherwise spin for a while after each run, taking
                # the core the event loop needs between messages (measured in
                # ``helpdesk bench pipeline``: the CPU per message nearly halves).
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                if self._threads:
                    options.intra_op_num_threads = self._threads
                self._session = onnxruntime.InferenceSession(
                    str(self._directory / GRAPH), options, providers=["CPUExecutionProvider"]
                )
                self._tokenizer = tokenizer
            return self._session, self._tokenizer

    def load(self) -> None:
        self._load()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        session, tokenizer = self._load()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # Sorting by length keeps the padding of each batch small, as sentence-transformers does.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), self._batch_size):
            rows = order[start : start + self._batch_size]
            encodings = tokenizer.encode_batch([texts[i] for i in rows])
            feed = {
                "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
            }
            (vectors,) = session.run(None, feed)
            out[rows] = vectors
        return out


def export_onnx(
    directory: Path, *, model_path: str | None = None, progress: Progress | None = None
) -> float:
    """Export the sentence-transformers model at ``model_path`` (default: the packaged one) into
    ``directory`` and return the lowest cosine between its vectors and torch's on ``CHECK_TEXTS``.

    Raises ``EncoderExportError`` (and leaves nothing behind) if that cosine is below
    ``MIN_COSINE``: a drifting export must never serve."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    source = model_path or default_model_path()
    # A scratch directory of this process's own: two processes starting on a fresh data dir
    # may both export, and neither must delete the other's half-written files.
    directory.parent.mkdir(parents=True, exist_ok=True)
    remove_abandoned_exports(directory)
    work = Path(tempfile.mkdtemp(prefix=f".{directory.name}.partial-", dir=directory.parent))
    try:
        if progress:
            progress("exporting the encoder to ONNX", 0, 3)
        reference, meta = _export_graph(source, work)
        if progress:
            progress("checking the ONNX encoder against torch", 1, 3)
        _write_manifest(work, source, meta, worst=1.0)
        vectors = OnnxEmbedder(work, batch_size=8).encode(CHECK_TEXTS)
        worst = float(np.min(np.sum(vectors * reference, axis=1)))
        if not worst >= MIN_COSINE:
            raise EncoderExportError(
                f"the ONNX encoder's vectors differ from torch's (lowest cosine {worst:.6f} on "
                f"{len(CHECK_TEXTS)} check texts, {MIN_COSINE} needed); serving with torch"
            )
        _write_manifest(work, source, meta, worst=worst)
        _move_into_place(work, directory)
        if progress:
            progress("ONNX encoder ready", 3, 3)
        return worst
    except EncoderExportError:
        shutil.rmtree(work, ignore_errors=True)
        raise
    except Exception as exc:  # the exporter fails in many library-specific ways
        shutil.rmtree(work, ignore_errors=True)
        raise EncoderExportError(f"could not export the encoder to ONNX: {exc}") from exc


ABANDONED_AFTER_SECONDS = 3600.0  # far longer than an export takes, even on a busy machine


def remove_abandoned_exports(directory: Path, *, now: float | None = None) -> list[Path]:
    """Remove the scratch folders of exports into ``directory`` that were abandoned (a process
    stopped halfway: a chat left during its first start); a folder touched within the last
    hour may be another process's export in progress and is left alone."""
    now = time.time() if now is None else now
    removed = []
    for scratch in directory.parent.glob(f".{directory.name}.partial-*"):
        try:
            if now - scratch.stat().st_mtime < ABANDONED_AFTER_SECONDS:
                continue
        except OSError:  # gone already
            continue
        shutil.rmtree(scratch, ignore_errors=True)
        removed.append(scratch)
    return removed


def _move_into_place(work: Path, directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)
    try:
        work.replace(directory)
    except OSError:
        if not is_exported(directory):  # another process's export won the race: keep that one
            raise
        shutil.rmtree(work, ignore_errors=True)


def _export_graph(source: str, work: Path) -> tuple[np.ndarray, dict[str, Any]]:
    """Write the graph and tokenizer into ``work``; return torch's vectors for ``CHECK_TEXTS``."""
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    model = SentenceTransformer(source, device="cpu")
    reference = np.asarray(
        model.encode(
            list(CHECK_TEXTS),
            batch_size=8,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        ),
        dtype=np.float32,
    )
    transformer: Any = model[0].auto_model
    transformer.eval()

    class Pooled(torch.nn.Module):
        """The transformer, mean pooling over real tokens, and L2 normalisation."""

        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(
            self,
            input_ids: torch.Tensor,
            attention_mask: torch.Tensor,
            token_type_ids: torch.Tensor,
        ) -> torch.Tensor:
            tokens = self.transformer(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )[0]
            mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
            pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    # The traced sample has a padded row: with a mask of all ones, transformers versions that
    # skip the attention mask when nothing is padded could bake that shortcut into the graph
    # (the one in use does not; the vector check below would catch it either way).
    sample = torch.ones(2, 8, dtype=torch.long)
    mask = sample.clone()
    mask[1, 5:] = 0
    axes = {name: {0: "batch", 1: "tokens"} for name in _INPUTS}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer chatter; the vector check below is the judge
        torch.onnx.export(
            Pooled(),
            (sample, mask, torch.zeros_like(sample)),
            str(work / GRAPH),
            input_names=list(_INPUTS),
            output_names=["embedding"],
            dynamic_axes={**axes, "embedding": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
    shutil.copyfile(Path(source) / TOKENIZER, work / TOKENIZER)
    tokenizer: Any = model.tokenizer
    meta = {
        "dimension": int(reference.shape[1]),
        "max_seq_length": int(model.max_seq_length or 256),
        "pad_id": int(tokenizer.pad_token_id or 0),
        "pad_token": str(tokenizer.pad_token),
    }
    return reference, meta


def _write_manifest(work: Path, source: str, meta: dict[str, Any], *, worst: float) -> None:
    name = os.path.basename(source.rstrip("/")) if source != default_model_path() else None
    manifest = {
        "model_name": name or DEFAULT_MODEL_NAME,
        "source": source,
        "source_bytes": _weights_size(Path(source)),
        "lowest_check_cosine": worst,
        "check_texts": len(CHECK_TEXTS),
        **meta,
    }
    (work / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def _weights_size(source: Path) -> int:
    return sum(p.stat().st_size for p in source.glob("*.safetensors")) or sum(
        p.stat().st_size for p in source.glob("*.bin")
    )


def matches_source(directory: Path, model_path: str | None = None) -> bool:
    """Whether the export in ``directory`` was made from the model now at ``model_path``."""
    if not is_exported(directory):
        return False
    try:
        manifest = json.loads((directory / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return False
    source = model_path or default_model_path()
    return bool(manifest.get("source_bytes") == _weights_size(Path(source)))
