"""Per-message CPU work (encoding, the intent classifier, the faiss search) runs off the event
loop: while one message's work is stuck in it, the loop goes on serving others. Each stand-in
below blocks its thread until the test — running on the loop — lets it go; work done on the
loop would never see that happen."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from bot.dialogs.understanding import EmbeddingUnderstander
from tests.unit.test_loading_ahead import Parse, Searcher

WAIT = 10.0  # seconds a blocked step waits before giving up (only if the loop is stuck)


class Gate:
    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.released_in_time: bool | None = None

    def block(self) -> None:
        self.entered.set()
        self.released_in_time = self.release.wait(WAIT)


class GatedEncoder:
    def __init__(self, gate: Gate | None) -> None:
        self.gate = gate

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if self.gate:
            self.gate.block()
        return np.ones((len(texts), 4), dtype=np.float32) / 2


class GatedParser:
    def __init__(self, gate: Gate | None) -> None:
        self.gate = gate

    def parse_vector(self, text: str, vector: np.ndarray) -> Parse:
        if self.gate:
            self.gate.block()
        return Parse()


class GatedSearcher(Searcher):
    def __init__(self, gate: Gate | None) -> None:
        self.gate = gate

    def search_vector(self, query_text: str, vector: np.ndarray, k: int = 5) -> list[Any]:
        if self.gate:
            self.gate.block()
        return []


@pytest.mark.parametrize("step", ["encoder", "classifier", "search"])
async def test_a_stuck_step_does_not_stall_the_event_loop(step: str) -> None:
    gate = Gate()
    understander = EmbeddingUnderstander(
        encoder=GatedEncoder(gate if step == "encoder" else None),
        parser=GatedParser(gate if step == "classifier" else None),
        searcher=GatedSearcher(gate if step == "search" else None),
    )
    message = asyncio.create_task(understander.understand("where is my order?"))
    assert await asyncio.to_thread(gate.entered.wait, WAIT)
    other_customer = asyncio.Event()  # the loop still runs other work meanwhile
    asyncio.get_running_loop().call_soon(other_customer.set)
    await asyncio.wait_for(other_customer.wait(), WAIT)
    gate.release.set()
    understanding = await asyncio.wait_for(message, WAIT)
    assert gate.released_in_time and understanding.intent == "password_reset"
