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
import shutil
import tempfile
import threading
import unicodedata
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
    another directory, never a stale one."""
    from importlib.metadata import version

    key = hashlib.sha1(" ".join(COMMON_LANGUAGES).encode()).hexdigest()[:10]
    return cache_dir / f"language-id-{version('py3langid')}-{key}"


# the automaton's tables, which py3langid walks as stdlib arrays; the rest are numpy arrays
_AUTOMATON = ("nextmove", "row")


def _write_compact(identifier: Any, path: Path) -> None:
    """The restricted model's arrays, one ``.npy`` file each, so that a start reads each table
    straight into its final array (the automaton's 38 MB table once, not three times as from
    an archive); written in a scratch directory renamed into place, so a reader never finds
    half a copy."""
    arrays = {
        "ptc": np.asarray(identifier.nb_ptc),
        "pc": np.asarray(identifier.nb_pc),
        "classes": np.array(identifier.nb_classes),
        "nextmove": np.frombuffer(identifier.tk_nextmove, dtype=_dtype(identifier.tk_nextmove)),
        "row": np.frombuffer(identifier.tk_row, dtype=_dtype(identifier.tk_row)),
        "out": np.asarray(identifier.tk_output, dtype=np.int32),
    }
    scratch: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
        for name, values in arrays.items():
            np.save(scratch / f"{name}.npy", values, allow_pickle=False)
        os.replace(scratch, path)
        # the single-archive copy an older version kept
        (path.parent / f"{path.name}.npz").unlink(missing_ok=True)
    except OSError:  # a read-only data dir, or another process's copy got there first
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _read_compact(path: Path) -> Any:
    """The identifier from a compact copy; None when there is none (or it cannot be read)."""
    from py3langid.langid import LanguageIdentifier

    try:
        tables = {name: _read_stdlib_array(path / f"{name}.npy") for name in _AUTOMATON}
        arrays = {
            name: np.load(path / f"{name}.npy", allow_pickle=False)
            for name in ("ptc", "pc", "classes", "out")
        }
        return LanguageIdentifier(
            arrays["ptc"],
            arrays["pc"],
            arrays["classes"].tolist(),
            tables["nextmove"],
            arrays["out"].tolist(),
            norm_probs=True,
            tk_row=tables["row"],
        )
    except (OSError, ValueError, KeyError, EOFError):
        return None


def _dtype(values: array) -> np.dtype[Any]:
    return np.dtype(f"u{values.itemsize}")


def _read_stdlib_array(path: Path) -> array:
    """A one-dimensional ``.npy`` of unsigned integers read straight into a stdlib array (which
    py3langid walks its automaton over: fast item access from Python)."""
    with path.open("rb") as handle:
        major, _ = np.lib.format.read_magic(handle)
        read_header = (
            np.lib.format.read_array_header_1_0
            if major == 1
            else np.lib.format.read_array_header_2_0
        )
        shape, _, dtype = read_header(handle)
        if len(shape) != 1 or dtype.kind != "u" or not dtype.isnative:
            raise ValueError(f"{path.name}: not a native unsigned table")
        out = array({2: "H", 4: "I", 8: "L"}[dtype.itemsize])
        out.fromfile(handle, shape[0])  # EOFError when the file is cut short
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
