"""Understanding one customer message: ONE embedding feeds both the intent classifier and the
knowledge search; encoding runs off the event loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from bot.config import ANSWER_THRESHOLD
from bot.dialogs.asks import names_a_problem, sounds_urgent, topic_of, wants_person
from bot.dialogs.batching import MicroBatcher
from bot.dialogs.states import Hit
from bot.knowledge.rendering import section_answer, whole_article
from bot.knowledge.search import answer_hit

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Understanding:
    intent: str | None
    confidence: float
    hit: Hit | None
    unsupported_language: bool
    entities: tuple[dict[str, Any], ...] = ()
    wants_person: bool = False  # asks for a person beside whatever topic it names
    names_a_problem: bool = False  # ... and says what about
    urgent: bool = False
    topic: str | None = None  # the problem's intent among the top candidates
    # what the intent does, as set by an admin: (kind, value), e.g. ("say", "…"); for an
    # article, ``hit`` is that article
    action: tuple[str, str] | None = None


class Understander(Protocol):
    async def understand(self, text: str) -> Understanding: ...

    def whole_article(self, slug: str) -> tuple[str, str] | None:
        """The article's title and whole text as people read it (None if unknown)."""


class _Encoder(Protocol):
    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class _Parser(Protocol):
    def parse_vector(self, text: str, vector: np.ndarray) -> Any: ...


class _Searcher(Protocol):
    def search_vector(self, query_text: str, vector: np.ndarray, k: int = 5) -> list[Any]: ...

    def article_sections(self, slug: str) -> list[tuple[str, str]]: ...

    def title_of(self, slug: str) -> str | None: ...

    def best_section(self, slug: str, vector: np.ndarray) -> str: ...


class _Action(Protocol):
    @property
    def kind(self) -> str: ...

    @property
    def value(self) -> str: ...


class EmbeddingUnderstander:
    """The production understander: encoder + NLU model + knowledge search + language check.

    ``actions`` names what an intent does (``bot.intents``)."""

    def __init__(
        self,
        *,
        encoder: _Encoder,
        parser: _Parser,
        searcher: _Searcher,
        supported_languages: Sequence[str] = ("en",),
        answer_threshold: float = ANSWER_THRESHOLD,
        article_url: str | None = None,
        actions: Callable[[str | None], _Action | None] | None = None,
        catch_up: Callable[[], Awaitable[object]] | None = None,
        language_cache: Path | None = None,
    ) -> None:
        """``catch_up`` is awaited before each message: the intent model and the knowledge
        base reload what an admin changed since (``bot.storage.content.catching_up``).
        ``language_cache``: where the language identifier keeps its compact copy."""
        self._language_cache = language_cache
        self._actions = actions
        self._catch_up = catch_up
        self._answer_threshold = answer_threshold
        self._article_url = article_url or ""
        self.encoder = encoder  # shared with the knowledge-gap review, which groups by meaning
        self._batcher = MicroBatcher(encoder)
        self._parser = parser
        self._searcher = searcher
        self._supported = tuple(supported_languages)

    async def understand(self, text: str) -> Understanding:
        if self._catch_up is not None:
            await self._catch_up()
        vector = await self._batcher.encode_one(text)
        return await asyncio.to_thread(self._interpret, text, vector)

    def warm_up(self) -> None:
        """Load everything a message needs (the encoder's weights, the language identifier, the
        classifier's and the index's lazy parts) by understanding one message now, so that the
        first customer never waits on a load. Blocking: run it off the event loop."""
        from nlu import language

        language.load(self._language_cache)
        text = "how do I reset my password?"
        self._interpret(text, self.encoder.encode([text])[0])

    def whole_article(self, slug: str) -> tuple[str, str] | None:
        title = self._searcher.title_of(slug)
        if title is None:
            return None
        return title, whole_article(self._searcher.article_sections(slug))

    def _hit(self, best: Any, vector: np.ndarray) -> Hit:
        sections = self._searcher.article_sections(best.slug)
        section = self._searcher.best_section(best.slug, vector)
        return Hit(
            slug=best.slug,
            title=best.title,
            snippet=best.snippet,
            reference=best.reference,
            score=float(best.score),
            body=section_answer(sections, section) if sections else best.snippet,
            url=self._article_url.format(slug=best.slug) if self._article_url else "",
        )

    def _interpret(self, text: str, vector: np.ndarray) -> Understanding:
        from nlu.language import is_unsupported

        parse = self._parser.parse_vector(text, vector)
        hits = self._searcher.search_vector(text, vector, k=3)
        best = answer_hit(hits, self._answer_threshold) or (hits[0] if hits else None)
        hit = self._hit(best, vector) if best is not None else None
        ranking = [(str(name), float(score)) for name, score in parse.ranking]
        intent = None if parse.out_of_scope else parse.intent
        action = self._actions(intent) if self._actions is not None else None
        if action is not None and action.kind == "article":
            article = self._article_hit(action.value, vector, hits)
            if article is None:  # the article is gone: answer as if the intent had no action
                action = None
            else:
                hit = article
        entities = tuple(
            e.to_dict() if hasattr(e, "to_dict") else dict(vars(e)) for e in parse.entities
        )
        unsupported = is_unsupported(text, supported=self._supported)
        logger.debug(
            "understood %r: intent=%s (%.2f) hit=%s (%.2f) unsupported=%s",
            text[:80],
            intent,
            parse.confidence,
            hit and hit.slug,
            hit.score if hit else 0.0,
            unsupported,
        )
        return Understanding(
            intent=intent,
            confidence=float(parse.confidence),
            hit=hit,
            unsupported_language=unsupported,
            entities=entities,
            wants_person=wants_person(text, ranking),
            names_a_problem=names_a_problem(text),
            urgent=sounds_urgent(text, ranking),
            topic=None if parse.out_of_scope else topic_of(ranking),
            action=(action.kind, action.value) if action is not None else None,
        )

    def _article_hit(self, slug: str, vector: np.ndarray, hits: list[Any]) -> Hit | None:
        """The article an intent answers with, as a hit; its score is the search's for it (0
        when the search did not find it): the dialog answers with it because of the intent."""
        title = self._searcher.title_of(slug)
        if title is None:
            return None
        sections = self._searcher.article_sections(slug)
        section = self._searcher.best_section(slug, vector)
        return Hit(
            slug=slug,
            title=title,
            snippet=section_answer(sections, section) if sections else "",
            reference=f"kb:{slug}",
            score=next((float(h.score) for h in hits if h.slug == slug), 0.0),
            body=section_answer(sections, section) if sections else "",
            url=self._article_url.format(slug=slug) if self._article_url else "",
        )


class LoadingUnderstander:
    """An understander still loading in the background (``helpdesk chat`` shows its prompt at
    once): the load starts when this is made, not on the first message; a message that
    arrives before it ends waits for it. ``whole_article`` answers None until then."""

    def __init__(self, loading: asyncio.Task[Understander]) -> None:
        self._loading = loading

    @property
    def loaded(self) -> bool:
        return self._loading.done() and not self._loading.cancelled()

    async def ready(self) -> Understander:
        return await asyncio.shield(self._loading)

    async def understand(self, text: str) -> Understanding:
        return await (await self.ready()).understand(text)

    def whole_article(self, slug: str) -> tuple[str, str] | None:
        if not self.loaded or self._loading.exception() is not None:
            return None
        return self._loading.result().whole_article(slug)

    def cancel(self) -> None:
        self._loading.cancel()
