"""Articles as customers read them in a chat: the matched section with its steps, cut cleanly to
a message's size, and the whole article split into messages that fit the platform.

Every platform shows these as plain text, so Markdown emphasis is dropped and headings become
plain lines. A cut never falls inside a word, and never leaves a list item's number ("3.") or a
heading dangling at the end.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# The smallest limit a message must fit, per platform (Discord 2,000 characters; Telegram
# 4,096; a Slack section block 3,000), less room for the adapter's escaping and a title.
MESSAGE_LIMITS = {"discord": 1900, "telegram": 3900, "slack": 2900}
DEFAULT_MESSAGE_LIMIT = 1900
# An answer is a message, not the article: long enough for a section's steps, short enough
# to read in a chat and to fit every platform with the title and the link around it.
ANSWER_CHARS = 1200
# A lead this short usually points at the steps below it ("… follow these steps"): show the
# first section with it.
SHORT_LEAD_CHARS = 400

_EMPHASIS = re.compile(r"(\*\*|__|`)(.+?)\1", re.DOTALL)
_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.MULTILINE)
_LIST_NUMBER_ONLY = re.compile(r"(?:^|\n)\s*(?:\d+[.)]|[-*•])\s*$")
_BREAKS = ("\n\n", "\n", ". ", "! ", "? ", "; ", ", ", " ")


def message_limit(platform: str) -> int:
    return MESSAGE_LIMITS.get(platform, DEFAULT_MESSAGE_LIMIT)


def plain(markdown: str) -> str:
    """Markdown as plain text: no emphasis markers, headings as their words."""
    return _HEADING.sub(r"\1", _EMPHASIS.sub(r"\2", markdown)).strip()


def section_answer(
    sections: Sequence[tuple[str, str]], matched: str, limit: int = ANSWER_CHARS
) -> str:
    """The matched section (``""`` is the lead) as an answer. A short lead comes with the
    first section, so "follow these steps" is followed by the steps."""
    bodies = dict(sections)
    body = plain(bodies.get(matched, ""))
    if matched == "" and len(body) < SHORT_LEAD_CHARS:
        following = [(name, text) for name, text in sections if name]
        if following:
            name, text = following[0]
            body = f"{body}\n\n{name}\n{plain(text)}".strip()
    elif matched:
        body = f"{matched}\n{body}"
    return clip(body, limit)


def whole_article(sections: Sequence[tuple[str, str]]) -> str:
    parts = [plain(text) if not name else f"{name}\n{plain(text)}" for name, text in sections]
    return "\n\n".join(p for p in parts if p.strip())


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters at a paragraph, line, sentence or word end, with
    "…" when something was left out."""
    text = text.strip()
    if len(text) <= limit:
        return text
    head = _cut(text, limit - 1)
    return head + "…"


def split_message(text: str, limit: int) -> list[str]:
    """``text`` in messages of at most ``limit`` characters, each cut cleanly."""
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        head = _cut(rest, limit)
        parts.append(head)
        rest = rest[len(head) :].strip()
    if rest:
        parts.append(rest)
    return parts


def _cut(text: str, limit: int) -> str:
    """The longest clean head of ``text`` within ``limit``: cut at the best break in its last
    two thirds, dropping a list item's number or bullet left alone at the end."""
    window = text[: limit + 1]
    for mark in _BREAKS:
        at = window.rfind(mark, limit // 3, limit)
        if at > 0:
            head = text[: at + (1 if mark.strip() in ".!?;," else 0)].rstrip()
            head = _LIST_NUMBER_ONLY.sub("", head).rstrip()
            if head:
                return head
    return text[:limit]  # one very long word
