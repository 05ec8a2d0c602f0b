"""Nothing waits on a load: the encoder, the intent model, the index and the language
identifier are loaded before the first customer message is understood — at start-up for
``helpdesk run``, in the background while ``helpdesk chat``'s prompt waits — and a message that
arrives first waits for that load instead of starting one of its own."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from bot.dialogs.understanding import (
    EmbeddingUnderstander,
    LoadingUnderstander,
    Understander,
    Understanding,
)
from nlu import language


class LazyEncoder:
    """Loads its weights on the first text, as the real encoders do."""

    def __init__(self) -> None:
        self.loads = 0
        self.loaded = False

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not self.loaded:
            self.loads += 1
            self.loaded = True
        return np.ones((len(texts), 4), dtype=np.float32) / 2


@dataclass
class Parse:
    intent: str = "password_reset"
    confidence: float = 0.9
    out_of_scope: bool = False
    ranking: list[tuple[str, float]] = field(default_factory=lambda: [("password_reset", 0.9)])
    entities: list[Any] = field(default_factory=list)


class Parser:
    def parse_vector(self, text: str, vector: np.ndarray) -> Parse:
        return Parse()


class Searcher:
    def search_vector(self, query_text: str, vector: np.ndarray, k: int = 5) -> list[Any]:
        return []

    def article_sections(self, slug: str) -> list[tuple[str, str]]:
        return []

    def title_of(self, slug: str) -> str | None:
        return None

    def best_section(self, slug: str, vector: np.ndarray) -> str:
        return ""


async def test_warm_up_loads_what_the_first_message_would(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(language, "_identifier", None)  # as in a fresh process
    encoder = LazyEncoder()
    understander = EmbeddingUnderstander(encoder=encoder, parser=Parser(), searcher=Searcher())
    await asyncio.to_thread(understander.warm_up)
    assert encoder.loaded and language.loaded()

    loads_before = encoder.loads
    understanding = await understander.understand(
        "I cannot log in to my account since this morning, please help"
    )
    assert understanding.intent == "password_reset"
    assert encoder.loads == loads_before == 1  # the first message loaded nothing


class CountingUnderstander:
    def __init__(self) -> None:
        self.seen: list[str] = []

    async def understand(self, text: str) -> Understanding:
        self.seen.append(text)
        return Understanding(intent=None, confidence=0.0, hit=None, unsupported_language=False)

    def whole_article(self, slug: str) -> tuple[str, str] | None:
        return ("Title", "Body")


async def test_the_load_starts_before_any_message_and_the_first_message_waits_for_it() -> None:
    started = asyncio.Event()
    finish = asyncio.Event()
    loads = 0
    loaded = CountingUnderstander()

    async def load() -> Understander:
        nonlocal loads
        loads += 1
        started.set()
        await finish.wait()
        return loaded

    understander = LoadingUnderstander(asyncio.create_task(load()))
    await asyncio.wait_for(started.wait(), timeout=5)  # under way with no message sent
    assert not understander.loaded
    assert understander.whole_article("any") is None  # nothing to show yet, and no error

    first = asyncio.create_task(understander.understand("hello"))
    await asyncio.sleep(0)
    assert not first.done() and loaded.seen == []  # waits for the load in progress
    finish.set()
    await asyncio.wait_for(first, timeout=5)
    await understander.understand("second")
    assert understander.loaded and loaded.seen == ["hello", "second"]
    assert loads == 1  # neither message started a load
    assert understander.whole_article("any") == ("Title", "Body")


async def test_a_failed_load_reaches_whoever_waits_for_it() -> None:
    async def load() -> Understander:
        raise RuntimeError("the model directory is unreadable")

    understander = LoadingUnderstander(asyncio.create_task(load()))
    with pytest.raises(RuntimeError, match="unreadable"):
        await understander.ready()
    assert understander.whole_article("any") is None
