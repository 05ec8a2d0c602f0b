"""Knowledge-base articles: Markdown files with YAML front matter, and their chunks.

An article file looks like::

    ---
    title: Resetting your password
    category: account
    tags: [login, password]
    questions:
      - I forgot my password
      - how do I change my password?
    updated: 2026-01-05
    ---
    A lead paragraph that answers the question in short.

    ## If the reset email does not arrive
    ...

The slug comes from the file name (``reset-password.md`` → ``reset-password``). A file that
cannot be used raises ``ArticleError`` naming the file and the reason; the importer reports it
and carries on. ``bot.knowledge.chunking`` splits the body into searchable chunks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bot.errors import HelpdeskError
from bot.knowledge.chunking import HEADING, Chunk, chunk_article, text_hash

STATUSES = ("published", "draft", "retired")  # as bot.knowledge.versions names them


class ArticleError(HelpdeskError):
    """An article file that cannot be imported; ``path`` and ``reason`` say which and why."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


@dataclass(frozen=True)
class ParsedArticle:
    """An article file, validated."""

    slug: str
    title: str
    category: str
    tags: list[str]
    questions: list[str]
    body: str
    source_path: str
    content_hash: str  # of the whole file: any edit, metadata included, changes it
    updated: datetime | None = None
    chunks: list[Chunk] = field(default_factory=list)
    # front matter ``status``: an exported draft or retired article stays one when imported
    status: str = "published"


def slug_from_path(path: Path) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")
    return slug or "article"


def section_anchor(section: str) -> str:
    """The GitHub-style anchor of a heading: ``If the email is late`` → ``if-the-email-is-late``."""
    anchor = re.sub(r"[^\w\s-]", "", section.lower(), flags=re.UNICODE)
    return re.sub(r"\s+", "-", anchor.strip())


def parse_article(path: Path) -> ParsedArticle:
    """Read and validate one article file; raises ``ArticleError`` with the reason."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ArticleError(path, f"cannot be read ({exc.strerror or exc})") from exc
    return parse_article_text(raw, path)


def parse_article_text(raw: bytes, path: Path) -> ParsedArticle:
    """Like ``parse_article`` for bytes already read (``path`` names the file and the slug)."""
    if b"\x00" in raw:
        raise ArticleError(path, "is a binary file, not Markdown")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ArticleError(path, f"is not UTF-8 text (bad byte at offset {exc.start})") from exc
    meta, body = _split_front_matter(text, path)
    title = meta.get("title")
    if not isinstance(title, str) or not title.strip():
        raise ArticleError(path, "has no 'title' in its front matter")
    title = title.strip()
    body = _drop_title_heading(body, title).strip()
    if not body:
        raise ArticleError(path, "has an empty body")
    category = meta.get("category") or ""
    if not isinstance(category, str):
        raise ArticleError(path, "'category' must be a string")
    status = meta.get("status") or "published"
    if status not in STATUSES:
        raise ArticleError(path, f"'status' must be one of {', '.join(STATUSES)}")
    return ParsedArticle(
        slug=slug_from_path(path),
        title=title,
        category=category.strip(),
        tags=_string_list(meta.get("tags"), "tags", path, split_commas=True),
        questions=_string_list(meta.get("questions"), "questions", path),
        body=body,
        source_path=str(path),
        content_hash=text_hash(text),
        updated=_as_datetime(meta.get("updated"), path),
        chunks=chunk_article(title, body),
        status=status,
    )


def _split_front_matter(text: str, path: Path) -> tuple[dict[str, Any], str]:
    import frontmatter
    import yaml

    if not text.lstrip().startswith("---"):
        raise ArticleError(path, "has no YAML front matter (it must start with '---')")
    try:
        post = frontmatter.loads(text)
    except yaml.YAMLError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ArticleError(path, f"has invalid YAML front matter ({reason})") from exc
    except (ValueError, TypeError, AttributeError) as exc:
        raise ArticleError(path, f"has unreadable front matter ({exc})") from exc
    if not isinstance(post.metadata, dict):
        raise ArticleError(path, "front matter must be a mapping of keys to values")
    return dict(post.metadata), post.content


def _drop_title_heading(body: str, title: str) -> str:
    """Many authors repeat the title as a ``# Heading``; it would only add noise to the lead."""
    lines = body.lstrip().splitlines()
    if lines and (m := HEADING.match(lines[0])) and len(m.group(1)) == 1:
        return "\n".join(lines[1:])
    return body


def _string_list(value: Any, key: str, path: Path, *, split_commas: bool = False) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        parts = value.split(",") if split_commas else [value]
        return [p.strip() for p in parts if p.strip()]
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return [str(v).strip() for v in value if str(v).strip()]
    raise ArticleError(path, f"'{key}' must be a list of strings")


def _as_datetime(value: Any, path: Path) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        try:
            return _as_datetime(datetime.fromisoformat(value.strip()), path)
        except ValueError:
            pass
    raise ArticleError(path, f"'updated' is not a date: {value!r}")
