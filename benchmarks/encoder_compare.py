"""The torch and ONNX encoders side by side: load time, one message at a time, batches of 32 and
peak memory, each encoder in a fresh process of its own, several runs, medians.

    python -m benchmarks.encoder_compare --runs 3 --encoder-dir data/models/encoder-onnx

The export must exist (``helpdesk chat`` makes it on first run, or ``nlu.onnx_encoder``).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SINGLE_MESSAGES = 200
BATCHES = 12
BATCH = 32


def _texts(count: int) -> list[str]:
    """Distinct customer-like messages, so no cache can answer twice."""
    from bot.config import PROJECT_ROOT
    from nlu.training_data import load_training_data

    examples, _ = load_training_data(
        [PROJECT_ROOT / "nlu" / "dialog", PROJECT_ROOT / "data" / "nlu"]
    ).pairs()
    return [f"{examples[i % len(examples)]} (ref {i})" for i in range(count)]


def measure_one(encoder: str, encoder_dir: Path) -> dict[str, float]:
    """Runs in the child process: one encoder, every figure."""
    started = time.perf_counter()
    if encoder == "onnx":
        from nlu.onnx_encoder import OnnxEmbedder

        embedder: object = OnnxEmbedder(encoder_dir, batch_size=BATCH)
    else:
        from nlu.embedding import SentenceTransformerEmbedder

        embedder = SentenceTransformerEmbedder(batch_size=BATCH)
    encode = embedder.encode  # type: ignore[attr-defined]
    encode(["warm up"])
    loaded = time.perf_counter() - started
    texts = _texts(SINGLE_MESSAGES + BATCHES * BATCH)
    singles = []
    for text in texts[:SINGLE_MESSAGES]:
        t0 = time.perf_counter()
        encode([text])
        singles.append(time.perf_counter() - t0)
    rest = texts[SINGLE_MESSAGES:]
    t0 = time.perf_counter()
    for start in range(0, len(rest), BATCH):
        encode(rest[start : start + BATCH])
    batched = time.perf_counter() - t0
    return {
        "load_s": loaded,
        "single_p50_ms": float(np.percentile(singles, 50) * 1000),
        "single_p99_ms": float(np.percentile(singles, 99) * 1000),
        "batch32_texts_per_s": len(rest) / batched,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "torch_imported": float("torch" in sys.modules),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--encoder-dir", type=Path, default=Path("data/models/encoder-onnx"))
    parser.add_argument("--child", choices=["torch", "onnx"])
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure_one(args.child, args.encoder_dir)))
        return
    results: dict[str, list[dict[str, float]]] = {"torch": [], "onnx": []}
    for _ in range(args.runs):
        for encoder in results:  # interleaved, so a busy spell hurts both alike
            done = subprocess.run(
                [sys.executable, "-m", "benchmarks.encoder_compare", "--child", encoder,
                 "--encoder-dir", str(args.encoder_dir)],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            results[encoder].append(json.loads(done.stdout.strip().splitlines()[-1]))
    for encoder, runs in results.items():
        medians = {key: round(statistics.median(r[key] for r in runs), 2) for key in runs[0]}
        print(encoder, json.dumps(medians))


if __name__ == "__main__":
    main()
