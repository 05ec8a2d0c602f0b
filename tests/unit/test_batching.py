"""Concurrent messages share encoder calls; a lone message is not held back."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import numpy as np
import pytest

from bot.dialogs.batching import MicroBatcher
from bot.metrics import REGISTRY


class GatedEncoder:
    """Encodes text as [len(text)], blocking each call until the test opens the gate."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.started = threading.Event()
        self.gate = threading.Event()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        self.started.set()
        self.gate.wait(timeout=30)
        if "boom" in texts:
            raise RuntimeError("encoder failed")
        return np.array([[float(len(t))] for t in texts], dtype=np.float32)


async def test_texts_arriving_during_an_encode_share_the_next_call() -> None:
    encoder = GatedEncoder()
    batcher = MicroBatcher(encoder)
    first = asyncio.create_task(batcher.encode_one("a"))
    await asyncio.to_thread(encoder.started.wait, 30)  # the encoder is busy with "a"
    rest = [asyncio.create_task(batcher.encode_one(t)) for t in ("bb", "ccc", "dddd")]
    await asyncio.sleep(0)  # let them queue
    encoder.gate.set()
    results = await asyncio.gather(first, *rest)
    assert encoder.calls == [["a"], ["bb", "ccc", "dddd"]]
    assert [float(r[0]) for r in results] == [1.0, 2.0, 3.0, 4.0]  # each gets its own vector


async def test_an_encoder_failure_reaches_every_waiter_of_that_batch_only() -> None:
    encoder = GatedEncoder()
    encoder.gate.set()
    batcher = MicroBatcher(encoder)
    with pytest.raises(RuntimeError, match="encoder failed"):
        await batcher.encode_one("boom")
    assert float((await batcher.encode_one("ok"))[0]) == 2.0


async def test_the_batch_sizes_reach_the_metrics() -> None:
    def observed(size: str) -> float:
        value = REGISTRY.get_sample_value("helpdesk_encoder_batch_size_bucket", {"le": size})
        return value or 0.0

    one_before, four_before = observed("1.0"), observed("4.0")
    encoder = GatedEncoder()
    batcher = MicroBatcher(encoder)
    first = asyncio.create_task(batcher.encode_one("a"))
    await asyncio.to_thread(encoder.started.wait, 30)
    rest = [asyncio.create_task(batcher.encode_one(t)) for t in ("bb", "ccc", "dddd")]
    await asyncio.sleep(0)
    encoder.gate.set()
    await asyncio.gather(first, *rest)
    # one call of 1 text (in the ≤1 bucket and the ≤4 one), one of 3 (≤4 only)
    assert (observed("1.0") - one_before, observed("4.0") - four_before) == (1, 2)
