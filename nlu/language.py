"""Language detection, tuned to be conservative: a wrong "unsupported language" reply to an
English customer is worse than answering a foreign message in English.

``detect_language`` uses py3langid restricted to common languages, with normalised
probabilities. ``is_unsupported`` never flags short inputs in Latin script (detectors are
unreliable on "refund please"), flags text dominated by a non-Latin script unless that
language is supported, and otherwise flags only confident detections.
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Sequence
from typing import Any

__all__ = ["COMMON_LANGUAGES", "detect_language", "is_unsupported", "load", "loaded"]

COMMON_LANGUAGES: tuple[str, ...] = (
    "en", "es", "fr", "de", "it", "pt", "nl", "sv", "da", "no", "fi", "pl",
    "cs", "ro", "hu", "tr", "ru", "uk", "el", "ar", "he", "hi", "zh", "ja", "ko",
)  # fmt: skip

MIN_WORDS = 3
MIN_LETTERS = 15
MIN_NON_LATIN_LETTERS = 3
CONFIDENT = 0.9

_identifier: Any = None
_identifier_lock = threading.Lock()


def _get_identifier() -> Any:
    """py3langid's model is loaded once (about 0.1 s) and is read-only afterwards."""
    global _identifier
    with _identifier_lock:
        if _identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
            identifier.set_languages(list(COMMON_LANGUAGES))
            _identifier = identifier
        return _identifier


def load() -> None:
    """Load the identifier now (start-up), not on the first message that needs it."""
    _get_identifier()


def loaded() -> bool:
    return _identifier is not None


def detect_language(text: str) -> tuple[str, float]:
    """The most likely language (ISO 639-1) and its probability in [0, 1]."""
    if not text.strip():
        return "en", 0.0
    lang, prob = _get_identifier().classify(text)
    return str(lang), float(prob)


def _letters(text: str) -> tuple[int, int]:
    """Counts of (Latin, other) letters."""
    latin = other = 0
    for char in text:
        if not char.isalpha():
            continue
        if "LATIN" in unicodedata.name(char, ""):
            latin += 1
        else:
            other += 1
    return latin, other


def is_unsupported(text: str, supported: Sequence[str] = ("en",)) -> bool:
    """True only when ``text`` is clearly written in a language outside ``supported``."""
    latin, other = _letters(text)
    if other > latin and other >= MIN_NON_LATIN_LETTERS:
        lang, _prob = detect_language(text)
        return lang not in supported
    if len(text.split()) < MIN_WORDS or latin < MIN_LETTERS:
        return False
    lang, prob = detect_language(text)
    return lang not in supported and prob >= CONFIDENT
