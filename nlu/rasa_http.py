"""Optional NLU backend: a running Rasa server's ``POST {RASA_URL}/model/parse``.

``RasaParser`` has the same ``parse_vector(text, vector)`` seam as ``NluModel``. It sends
``{"text": …}`` to Rasa with a short timeout and reads Rasa's documented response (``intent``
``{name, confidence}``, ``entities`` ``[{entity, value, start, end, confidence_entity,
extractor}]``, ``intent_ranking``) into a ``ParseResult``; Rasa's ``nlu_fallback`` counts as out of
scope. When Rasa fails — connection refused, a timeout, an HTTP error, a body that is not a
parse result — the message is parsed by the built-in ``fallback`` model instead and a warning is
logged, so a Rasa outage degrades answers rather than stopping the bot.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

import numpy as np

from nlu.model import ParseResult

__all__ = ["DEFAULT_TIMEOUT", "RasaParser", "RasaUnavailable"]

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 2.0  # seconds; a chat reply should not wait longer on a remote parser


class RasaUnavailable(Exception):
    """Rasa did not give a usable parse (unreachable, slow, an error status or a bad body)."""


class _VectorParser(Protocol):
    def parse_vector(self, text: str, vector: np.ndarray) -> ParseResult: ...


class RasaParser:
    """Parses through Rasa's HTTP API; falls back to ``fallback`` when Rasa fails."""

    def __init__(
        self,
        *,
        url: str,
        fallback: _VectorParser,
        timeout: float = DEFAULT_TIMEOUT,
        token: str | None = None,
    ) -> None:
        import httpx

        self.endpoint = url.rstrip("/") + "/model/parse"
        self._fallback = fallback
        self._params = {"token": token} if token else None
        self._client = httpx.Client(timeout=timeout)

    def parse_remote(self, text: str) -> ParseResult:
        """Rasa's parse of ``text``; raises ``RasaUnavailable`` when there is none."""
        import httpx

        try:
            response = self._client.post(self.endpoint, json={"text": text}, params=self._params)
            response.raise_for_status()
            payload: Any = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise RasaUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(payload, dict) or not isinstance(payload.get("intent"), dict):
            raise RasaUnavailable("the response is not a Rasa parse result")
        try:
            return ParseResult.from_dict({**payload, "text": text})
        except (KeyError, TypeError, ValueError) as exc:
            raise RasaUnavailable(f"unreadable parse result: {exc}") from exc

    def parse_vector(self, text: str, vector: np.ndarray) -> ParseResult:
        """Rasa's parse, or the built-in model's when Rasa fails (the vector is only used then)."""
        try:
            return self.parse_remote(text)
        except RasaUnavailable as exc:
            logger.warning(
                "Rasa at %s failed (%s); using the built-in classifier", self.endpoint, exc
            )
            return self._fallback.parse_vector(text, vector)

    def close(self) -> None:
        self._client.close()
