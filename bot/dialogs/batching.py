"""Micro-batching of the encoder: the encoder is the physical limit of the system, and one call
on 32 texts costs far less than 32 calls on one.

No timers: while a batch is being encoded, new texts queue up; as soon as the encoder is free,
everything queued goes in the next call. A lone message is encoded at once; a burst shares calls.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from bot.metrics import ENCODER_BATCH


class Encoder(Protocol):
    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class MicroBatcher:
    def __init__(self, encoder: Encoder, *, max_batch: int = 64) -> None:
        self._encoder = encoder
        self._max_batch = max_batch
        self._queue: list[tuple[str, asyncio.Future[np.ndarray]]] = []
        self._worker: asyncio.Task[None] | None = None
        self.calls = 0  # encoder calls made, for metrics and tests

    async def encode_one(self, text: str) -> np.ndarray:
        future: asyncio.Future[np.ndarray] = asyncio.get_running_loop().create_future()
        self._queue.append((text, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._queue:
            batch = self._queue[: self._max_batch]
            del self._queue[: self._max_batch]
            self.calls += 1
            ENCODER_BATCH.observe(len(batch))
            try:
                vectors = await asyncio.to_thread(self._encoder.encode, [t for t, _ in batch])
            except Exception as exc:  # every waiter of this batch gets the error
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), vector in zip(batch, vectors, strict=True):
                if not future.done():
                    future.set_result(vector)
