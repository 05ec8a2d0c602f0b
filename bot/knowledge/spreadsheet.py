"""Articles from a spreadsheet saved as CSV: one article per row, columns found by header.

A row's title is its ``title`` column, or else its ``question``; its text is ``answer`` (or
``body``). Optional: ``tags`` and ``questions`` (separated by ``;`` or ``|``) and ``category``.
Headers are matched without regard to case or surrounding spaces. Each usable row becomes a
Markdown article with front matter (``bot.knowledge.articles``); a row that cannot be used is
reported by its line number and skipped, so one bad row never stops the rest.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

_TITLE = ("title", "question")
_BODY = ("answer", "body")
_LIST_SEPARATORS = re.compile(r"[;|]")


@dataclass
class SheetArticles:
    """The articles a sheet holds, as (slug, Markdown file text), and its unusable rows."""

    articles: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def slugify(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return slug[:80].rstrip("-") or "article"


def _column(headers: dict[str, str], names: tuple[str, ...]) -> str | None:
    return next((headers[name] for name in names if name in headers), None)


def _items(text: str) -> list[str]:
    return [part.strip() for part in _LIST_SEPARATORS.split(text) if part.strip()]


def read_sheet(path: Path) -> SheetArticles:
    """Every article of the CSV file at ``path`` (UTF-8, with or without a byte-order mark)."""
    result = SheetArticles()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        headers = {name.strip().lower(): name for name in reader.fieldnames or [] if name}
        title_column, body_column = _column(headers, _TITLE), _column(headers, _BODY)
        if title_column is None or body_column is None:
            result.errors.append(
                f"{path}: needs a 'title' (or 'question') and an 'answer' (or 'body') column; "
                f"found {', '.join(headers) or 'no header'}"
            )
            return result
        seen: set[str] = set()
        for row in reader:
            line = reader.line_num
            title = (row.get(title_column) or "").strip()
            body = (row.get(body_column) or "").strip()
            if not title and not body:
                continue  # a blank row
            if not title or not body:
                missing = "title" if not title else "answer"
                result.errors.append(f"{path}, line {line}: no {missing}; row skipped")
                continue
            slug = slugify(title)
            if slug in seen:
                result.errors.append(f"{path}, line {line}: '{title}' again; row skipped")
                continue
            seen.add(slug)
            result.articles.append((slug, _markdown(title, body, row, headers)))
    return result


def _markdown(title: str, body: str, row: dict[str, str], headers: dict[str, str]) -> str:
    front: dict[str, object] = {"title": title}
    for name in ("category",):
        if name in headers and (row.get(headers[name]) or "").strip():
            front[name] = (row.get(headers[name]) or "").strip()
    for name in ("tags", "questions"):
        if name in headers and _items(row.get(headers[name]) or ""):
            front[name] = _items(row.get(headers[name]) or "")
    if "question" in headers and headers["question"] != _column(headers, _TITLE):
        question = (row.get(headers["question"]) or "").strip()
        if question:
            front["questions"] = [question, *front.get("questions", [])]  # type: ignore[misc]
    header = yaml.safe_dump(front, allow_unicode=True, sort_keys=False).strip()
    return f"---\n{header}\n---\n\n{body}\n"
