"""The ONNX encoder against the torch one, on the real packaged model: the same vectors, so the
intent model and the knowledge index built with one serve with the other."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nlu.embedding import SentenceTransformerEmbedder
from nlu.encoder_choice import select_embedder
from nlu.onnx_encoder import CHECK_TEXTS, MIN_COSINE, OnnxEmbedder, export_onnx, is_exported
from nlu.training_data import load_training_data

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("encoder") / "encoder-onnx"
    export_onnx(directory)
    return directory


def customer_texts() -> list[str]:
    """Texts the export was not checked on: every 7th training example of the bundled data."""
    from bot.config import PROJECT_ROOT

    examples, _labels = load_training_data(
        [PROJECT_ROOT / "nlu" / "dialog", PROJECT_ROOT / "data" / "nlu"]
    ).pairs()
    unseen = [t for t in examples[::7] if t not in CHECK_TEXTS]
    assert len(unseen) > 40
    return unseen


def test_the_onnx_vectors_are_the_torch_vectors(exported: Path) -> None:
    texts = customer_texts()
    torch_vectors = SentenceTransformerEmbedder().encode(texts)
    onnx_vectors = OnnxEmbedder(exported).encode(texts)
    assert onnx_vectors.shape == torch_vectors.shape
    assert onnx_vectors.dtype == np.float32
    cosines = np.sum(onnx_vectors * torch_vectors, axis=1)
    assert float(cosines.min()) >= MIN_COSINE


def test_a_text_gets_the_same_vector_alone_and_in_a_padded_batch(exported: Path) -> None:
    encoder = OnnxEmbedder(exported, batch_size=16)
    texts = customer_texts()[:40]
    batched = encoder.encode(texts)
    alone = np.stack([encoder.encode([t])[0] for t in texts])
    assert float(np.sum(batched * alone, axis=1).min()) >= MIN_COSINE


def test_the_onnx_encoder_keeps_the_model_name_so_caches_and_indexes_stay_valid(
    exported: Path,
) -> None:
    onnx = OnnxEmbedder(exported)
    torch = SentenceTransformerEmbedder()
    assert onnx.model_name == torch.model_name
    assert onnx.dimension == 384


def test_auto_serves_an_existing_export_and_torch_can_be_forced(exported: Path) -> None:
    assert isinstance(select_embedder(exported, "auto"), OnnxEmbedder)
    assert isinstance(select_embedder(exported, "onnx"), OnnxEmbedder)
    assert isinstance(select_embedder(exported, "torch"), SentenceTransformerEmbedder)


def test_auto_exports_on_first_use_and_reports_progress(tmp_path: Path) -> None:
    directory = tmp_path / "models" / "encoder-onnx"
    steps: list[str] = []
    chosen = select_embedder(directory, "auto", lambda label, done, total: steps.append(label))
    assert isinstance(chosen, OnnxEmbedder)
    assert is_exported(directory)
    assert steps[0] == "exporting the encoder to ONNX"
    assert steps[-1] == "ONNX encoder ready"
    assert [p.name for p in directory.parent.iterdir()] == ["encoder-onnx"]  # no scratch left
