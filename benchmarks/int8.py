"""The int8 (dynamically quantised) ONNX encoder against the float one: speed and accuracy.

    helpdesk bench int8

The float export (``<data dir>/models/encoder-onnx``, what the product serves) is quantised
once with ONNX Runtime's ``quantize_dynamic`` (weights int8, activations quantised per batch)
into ``benchmarks/.cache/encoder-int8``; the int8 copy reports its own model name, so no cache
mixes its vectors with the float ones. In one process, interleaved round by round:

- speed: one text per call (p50) and batches of 32 (texts/s), the same texts for both;
- drift: cosine between the two encoders' vectors of the same texts (min, p1, mean);
- the bundled intents: trained on the bundled data and scored on the bundled test file
  (``benchmarks/data/bundled-intents-test.yml``), each encoder end to end (an int8 deployment
  trains on its own vectors), accuracy and what the dialog acts on, with 95 % Wilson intervals;
- a public set: StackFAQ (all 1,249 queries, 125 threads as articles), dense search only,
  Recall@1 and @10 through the product's index and ``KnowledgeSearch``.
"""

from __future__ import annotations

import json
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from benchmarks.datasets import load_stackfaq
from benchmarks.retrieval import corpus_entries, rank_queries, score_rankings
from benchmarks.vectors import CACHE_DIR, cached_vectors
from bot.config import PROJECT_ROOT
from nlu.onnx_encoder import OnnxEmbedder

Progress = Callable[[str], None]
TEST_FILE = PROJECT_ROOT / "benchmarks" / "data" / "bundled-intents-test.yml"
QUERIES = PROJECT_ROOT / "benchmarks" / "data" / "bundled-kb-queries.yml"
ROUNDS = 3


def quantised(float_dir: Path, target: Path | None = None) -> Path:
    """The int8 copy of the float export (made once)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target = target or CACHE_DIR / "encoder-int8"
    if (target / "encoder.onnx").exists():
        return target
    work = Path(tempfile.mkdtemp(prefix="encoder-int8-", dir=CACHE_DIR))
    for name in ("tokenizer.json", "encoder.json"):
        shutil.copy(float_dir / name, work / name)
    manifest = json.loads((work / "encoder.json").read_text("utf-8"))
    manifest["model_name"] = f"{manifest['model_name']}-int8"
    manifest["quantised"] = "onnxruntime.quantization.quantize_dynamic, QInt8 weights"
    (work / "encoder.json").write_text(json.dumps(manifest, indent=1), "utf-8")
    quantize_dynamic(
        str(float_dir / "encoder.onnx"), str(work / "encoder.onnx"), weight_type=QuantType.QInt8
    )
    if target.exists():
        shutil.rmtree(target)
    work.rename(target)
    return target


def speed(encoders: dict[str, OnnxEmbedder], texts: Sequence[str]) -> dict[str, Any]:
    singles: dict[str, list[float]] = {name: [] for name in encoders}
    batched: dict[str, list[float]] = {name: [] for name in encoders}
    for encoder in encoders.values():
        encoder.encode(["warm up"])
    one, many = texts[:60], texts[60 : 60 + 5 * 32]
    for _ in range(ROUNDS):
        for name, encoder in encoders.items():
            for text in one:
                started = time.perf_counter()
                encoder.encode([text])
                singles[name].append(time.perf_counter() - started)
            started = time.perf_counter()
            for i in range(0, len(many), 32):
                encoder.encode(many[i : i + 32])
            batched[name].append(len(many) / (time.perf_counter() - started))
    return {
        name: {
            "batch_1_ms_p50": round(statistics.median(singles[name]) * 1000, 2),
            "batch_32_texts_per_s": round(statistics.median(batched[name]), 1),
        }
        for name in encoders
    }


def drift(float_vectors: np.ndarray, int8_vectors: np.ndarray) -> dict[str, float]:
    cosines = np.sum(float_vectors * int8_vectors, axis=1)
    return {
        "min": round(float(cosines.min()), 4),
        "p1": round(float(np.percentile(cosines, 1)), 4),
        "mean": round(float(cosines.mean()), 4),
        "n": len(cosines),
    }


def bundled_intents(encoder: OnnxEmbedder, sources: Sequence[Path]) -> dict[str, Any]:
    from nlu.evaluate import evaluate
    from nlu.training_data import load_training_data

    report = evaluate(
        load_training_data(list(sources)), encoder, test_data=load_training_data(TEST_FILE)
    )
    low, high = report.accuracy_interval
    figures = {"accuracy": round(report.accuracy, 4), "interval": [round(low, 3), round(high, 3)]}
    if report.dialog_accuracy is not None and report.dialog_accuracy_interval is not None:
        dlow, dhigh = report.dialog_accuracy_interval
        figures["dialog_accuracy"] = round(report.dialog_accuracy, 4)
        figures["dialog_interval"] = [round(dlow, 3), round(dhigh, 3)]
    figures["n"] = report.examples
    return figures


def stackfaq(encoder: OnnxEmbedder, root: Path, name: str) -> dict[str, Any]:
    from bot.knowledge.index import build_index
    from bot.knowledge.search import KnowledgeSearch

    corpus = load_stackfaq(root)
    entries = corpus_entries(corpus)
    queries = list(corpus.queries)
    with tempfile.TemporaryDirectory(prefix="int8-stackfaq-") as tmp:
        build_index(entries, encoder, Path(tmp))
        search = KnowledgeSearch.load(Path(tmp))
        vectors = cached_vectors(f"int8-stackfaq-{name}", [q.text for q in queries], encoder)
        ranked = rank_queries(search, queries, vectors, "dense")
    scores = score_rankings(ranked, [q.relevant for q in queries])
    return {
        "recall_at_1": round(scores.recall[1], 4),
        "recall_at_10": round(scores.recall[10], 4),
        "n": scores.n,
    }


def run_int8(
    *, float_dir: Path, nlu_sources: Sequence[Path], datasets: Path, progress: Progress
) -> dict[str, Any]:
    progress("quantising the float export (once)")
    int8_dir = quantised(float_dir)
    encoders = {"float32": OnnxEmbedder(float_dir), "int8": OnnxEmbedder(int8_dir)}
    texts = [q["text"] for q in yaml.safe_load(QUERIES.read_text("utf-8"))["queries"]]
    progress(f"speed, {ROUNDS} interleaved rounds")
    document: dict[str, Any] = {"name": "int8-encoder", "speed": speed(encoders, texts)}
    test_texts = [
        str(line).strip().removeprefix("- ").strip()
        for item in yaml.safe_load(TEST_FILE.read_text("utf-8"))["nlu"]
        for line in str(item.get("examples", "")).splitlines()
        if line.strip()
    ]
    drift_texts = list(dict.fromkeys([*texts, *test_texts]))
    document["cosine_float_vs_int8"] = drift(
        encoders["float32"].encode(drift_texts), encoders["int8"].encode(drift_texts)
    )
    document["bundled_intents"] = {}
    document["stackfaq_dense"] = {}
    for name, encoder in encoders.items():
        progress(f"bundled intents, {name}")
        document["bundled_intents"][name] = bundled_intents(encoder, nlu_sources)
        progress(f"StackFAQ, {name}")
        document["stackfaq_dense"][name] = stackfaq(encoder, datasets, name)
    document["int8_dir_mb"] = round((int8_dir / "encoder.onnx").stat().st_size / 1e6, 1)
    document["float_dir_mb"] = round((float_dir / "encoder.onnx").stat().st_size / 1e6, 1)
    return document
