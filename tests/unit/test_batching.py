"""Concurrent messages share encoder calls; a lone message is not held back."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import numpy as np
import pytest

from bot.dialogs.batching import MicroBatcher


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
