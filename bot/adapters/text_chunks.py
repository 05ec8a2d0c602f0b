"""Cutting a long text into messages a platform accepts, where a reader expects a break.

Discord takes 2,000 characters a message, Telegram 4,096 (counted in UTF-16 code units). A
longer text becomes several messages, cut at a paragraph break, else a line end, else a space,
and only as a last resort inside a word — never silently shortened.
"""

from __future__ import annotations

from collections.abc import Callable

Measure = Callable[[str], int]
_BREAKS = ("\n\n", "\n", " ")


def utf16_length(text: str) -> int:
    """Telegram's measure: UTF-16 code units (an emoji outside the BMP counts twice)."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int, measure: Measure = len) -> list[str]:
    """``text`` as pieces of at most ``limit`` (by ``measure``), cut at natural breaks."""
    pieces: list[str] = []
    rest = text
    while measure(rest) > limit:
        head = _longest_prefix(rest, limit, measure)
        cut = _natural_cut(head)
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    if rest.strip() or not pieces:
        pieces.append(rest)
    return [p for p in pieces if p] or [text]


def _longest_prefix(text: str, limit: int, measure: Measure) -> str:
    """The longest start of ``text`` within ``limit``; ``measure`` need not be ``len``."""
    end = min(len(text), limit)
    while end > 1 and measure(text[:end]) > limit:
        end -= max(1, (measure(text[:end]) - limit) // 2)
    return text[:end]


def _natural_cut(head: str) -> int:
    """Where to cut ``head``: the last paragraph break, line end or space in its second half
    (a break too early would leave a tiny message), else its end."""
    for brk in _BREAKS:
        at = head.rfind(brk)
        if at > len(head) // 2:
            return at
    return len(head)
