"""Section-aware chunking of an article body.

Chunks are what gets embedded and searched: the lead (everything before the first ``##``) is one
chunk titled by the article, each ``##`` section is another (``###`` stays inside its section),
and a long section is split on paragraph boundaries (never inside a fenced code block) into
pieces of at most ``MAX_CHUNK_CHARS``. Every chunk's ``text`` starts with the article title (and
section heading) so it makes sense on its own; ``body`` is the same text without that prefix, for
showing to people.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

MAX_CHUNK_CHARS = 1200
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Chunk:
    """One searchable piece of an article."""

    ordinal: int
    section: str  # "" for the lead
    body: str  # the Markdown of the piece, as people read it
    text: str  # ``body`` prefixed with the title (and section): what is embedded
    content_hash: str


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chunk_prefix(title: str, section: str) -> str:
    return f"{title} — {section}\n\n" if section else f"{title}\n\n"


def chunk_article(title: str, body: str, *, max_chars: int = MAX_CHUNK_CHARS) -> list[Chunk]:
    """Split an article body into section-aware chunks (see the module docstring)."""
    chunks: list[Chunk] = []
    for section, text in _sections(body):
        for piece in _split_long(text, max_chars):
            full = chunk_prefix(title, section) + piece
            chunks.append(Chunk(len(chunks), section, piece, full, text_hash(full)))
    return chunks


def _sections(body: str) -> list[tuple[str, str]]:
    """(heading, text) pairs: the lead under "" and one per ``##`` heading."""
    sections: list[tuple[str, list[str]]] = [("", [])]
    in_fence = False
    for line in body.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        heading = None if in_fence else HEADING.match(line)
        if heading and len(heading.group(1)) <= 2:
            sections.append((heading.group(2).strip(), []))
        else:
            sections[-1][1].append(line)
    result = [(name, "\n".join(lines).strip()) for name, lines in sections]
    return [(name, text) for name, text in result if text]


def _split_long(text: str, max_chars: int) -> list[str]:
    """Pack paragraphs (never splitting a fenced code block) into pieces of ≤ ``max_chars``."""
    if len(text) <= max_chars:
        return [text]
    pieces: list[str] = []
    current = ""
    for paragraph in _paragraphs(text):
        for part in _split_paragraph(paragraph, max_chars):
            if current and len(current) + 2 + len(part) > max_chars:
                pieces.append(current)
                current = part
            else:
                current = f"{current}\n\n{part}" if current else part
    if current:
        pieces.append(current)
    return pieces


def _paragraphs(text: str) -> list[str]:
    paragraphs: list[str] = []
    lines: list[str] = []
    in_fence = False
    for line in text.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        if not line.strip() and not in_fence:
            if lines:
                paragraphs.append("\n".join(lines))
            lines = []
        else:
            lines.append(line)
    if lines:
        paragraphs.append("\n".join(lines))
    return paragraphs


def _split_paragraph(paragraph: str, max_chars: int) -> list[str]:
    """A paragraph longer than a chunk is split between sentences (or words, as a last resort)."""
    if len(paragraph) <= max_chars:
        return [paragraph]
    parts: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(paragraph):
        while len(sentence) > max_chars:
            cut = sentence.rfind(" ", 0, max_chars)
            cut = cut if cut > 0 else max_chars
            if current:
                parts.append(current)
                current = ""
            parts.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if current and len(current) + 1 + len(sentence) > max_chars:
            parts.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}" if current else sentence
    if current:
        parts.append(current)
    return parts
