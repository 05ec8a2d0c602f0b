"""Language detection, tuned to be conservative: a wrong "unsupported language" reply to an
English customer is worse than answering a foreign message in English.

``detect_language`` uses py3langid restricted to common languages, with normalised
probabilities. ``is_unsupported`` never flags short inputs in Latin script (detectors are
unreliable on "refund please"), flags text dominated by a non-Latin script unless that
language is supported, and otherwise flags only confident detections.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import unicodedata
import zipfile
from array import array
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

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


def _get_identifier(cache_dir: Path | None = None) -> Any:
    """py3langid's model is loaded once and is read-only afterwards. The packaged model (all
    its languages, LZMA-compressed) takes about 0.8 s and 70 MB; with ``cache_dir`` a compact
    copy restricted to ``COMMON_LANGUAGES`` is kept there (written on first use) and loads in a
    fraction of that, with about 30 MB less."""
    global _identifier
    with _identifier_lock:
        if _identifier is None:
            cached = _cache_file(cache_dir) if cache_dir is not None else None
            identifier = _read_compact(cached) if cached is not None else None
            if identifier is None:
                identifier = _packaged_identifier()
                if cached is not None:
                    _write_compact(identifier, cached)
            _identifier = identifier
        return _identifier


def _packaged_identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(COMMON_LANGUAGES))
    # every language's table, kept by py3langid for another ``set_languages``, which we never
    # make: 20 MB less
    identifier._full_model = None
    return identifier


def _cache_file(cache_dir: Path) -> Path:
    """Named after the installed py3langid and the languages: another version or list is
    another file, never a stale one."""
    from importlib.metadata import version

    key = hashlib.sha1(" ".join(COMMON_LANGUAGES).encode()).hexdigest()[:10]
    return cache_dir / f"language-id-{version('py3langid')}-{key}.npz"


def _write_compact(identifier: Any, path: Path) -> None:
    """The restricted model's arrays, uncompressed; written under a temporary name and renamed,
    so a reader never finds half a file."""
    arrays = {
        "ptc": np.asarray(identifier.nb_ptc),
        "pc": np.asarray(identifier.nb_pc),
        "classes": np.array(identifier.nb_classes),
        "nextmove": np.frombuffer(identifier.tk_nextmove, dtype=_dtype(identifier.tk_nextmove)),
        "row": np.frombuffer(identifier.tk_row, dtype=_dtype(identifier.tk_row)),
        "out": np.asarray(identifier.tk_output, dtype=np.int32),
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, scratch = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(handle, "wb") as out:
            np.savez(out, **arrays)  # type: ignore[arg-type]
        os.replace(scratch, path)
    except OSError:  # a read-only data dir: the packaged model serves, only slower to load
        return


def _read_compact(path: Path) -> Any:
    """The identifier from a compact copy; None when there is none (or it cannot be read)."""
    from py3langid.langid import LanguageIdentifier

    try:
        with np.load(path, allow_pickle=False) as data:
            return LanguageIdentifier(
                data["ptc"],
                data["pc"],
                data["classes"].tolist(),
                _as_array(data["nextmove"]),
                data["out"].tolist(),
                norm_probs=True,
                tk_row=_as_array(data["row"]),
            )
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None


def _dtype(values: array) -> np.dtype[Any]:
    return np.dtype(f"u{values.itemsize}")


def _as_array(values: np.ndarray) -> array:
    """py3langid walks its automaton over stdlib arrays (fast item access from Python)."""
    out = array({2: "H", 4: "I", 8: "L"}[values.dtype.itemsize])
    out.frombytes(np.ascontiguousarray(values).tobytes())
    return out


def load(cache_dir: Path | None = None) -> None:
    """Load the identifier now (start-up), not on the first message that needs it; from the
    compact copy in ``cache_dir`` when there is one (see ``_get_identifier``)."""
    _get_identifier(cache_dir)


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
