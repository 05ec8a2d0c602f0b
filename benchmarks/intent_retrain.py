"""How long an admin's intent change takes to reach the model: the background retrain after
adding examples to one intent, warm-started (cached example vectors, the solver started from
the served model) beside a cold retrain (nothing cached), on the bundled sample's data.

    python -m benchmarks.intent_retrain [--repeats 5] [--cache DIR]

Prints JSON: seconds per run (median and range) for the warm retrain (encode the new examples,
fit), the cold one (encode everything, fit) and the held-out accuracy measured after the swap.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.config import Settings
from nlu.embedding import CachingEmbedder, SentenceTransformerEmbedder
from nlu.train import CACHE_FILE, fit_model
from nlu.training_data import Example, load_training_data
from nlu.vector_cache import VectorCache

NEW_EXAMPLES = [
    "my parcel says delivered but it isn't here",
    "tracking hasn't moved for a week",
    "which courier brings my order",
    "can I pick up my order myself",
    "the delivery date keeps changing",
]


def _timed(work: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cache", type=Path, default=None)
    args = parser.parse_args()
    cache_dir = args.cache or Path(tempfile.mkdtemp(prefix="retrain-bench-"))
    embedder = CachingEmbedder(SentenceTransformerEmbedder())
    data = load_training_data(Settings().nlu_sources)
    cold_cache = VectorCache.in_memory(embedder.model_name)  # first use: nothing cached yet
    cold_seconds, served = _timed(lambda: fit_model(data, embedder, cold_cache))
    cache = VectorCache(cache_dir / CACHE_FILE, embedder.model_name)
    fit_model(data, embedder, cache)  # the served model's examples, cached
    warm: list[float] = []
    for run in range(args.repeats):
        changed = load_training_data(Settings().nlu_sources)
        changed.intents["order_status"] += [Example(f"{t} ({run})") for t in NEW_EXAMPLES]
        seconds, _ = _timed(
            lambda changed=changed: fit_model(
                changed, embedder, cache, previous=served.model.classifier
            )
        )
        warm.append(seconds)
    eval_seconds, evaluated = _timed(
        lambda: fit_model(data, embedder, cache, previous=served.model.classifier, evaluate=True)
    )
    print(
        json.dumps(
            {
                "examples": served.model.metadata.examples,
                "intents": len(data.intents),
                "new_examples_per_retrain": len(NEW_EXAMPLES),
                "warm_retrain_seconds": {
                    "median": round(statistics.median(warm), 2),
                    "min": round(min(warm), 2),
                    "max": round(max(warm), 2),
                    "runs": len(warm),
                },
                "cold_retrain_seconds": round(cold_seconds, 2),
                "held_out_evaluation_seconds": round(eval_seconds, 2),
                "held_out_accuracy": evaluated.evaluation.get("accuracy"),
                "held_out_method": evaluated.evaluation.get("method"),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
