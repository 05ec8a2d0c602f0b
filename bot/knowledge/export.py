"""``helpdesk kb export DIR``: the knowledge base as Markdown files with front matter — the
format ``kb import`` reads, so an export imported again changes nothing.

The database is the source of truth (``docs/knowledge.md``); an export is how its articles —
written in chat, imported from a spreadsheet or from files — go back into a folder, for review
in version control or to move them to another desk. Drafts and retired articles are left out
unless asked for (their front matter then says ``status``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Article

if TYPE_CHECKING:
    from bot.knowledge.versions import Content


@dataclass
class ExportReport:
    written: list[Path] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # "slug (draft)"


def article_markdown(content: Content, updated: datetime, status: str = "") -> str:
    """One article file: YAML front matter (title, category, tags, questions, updated) and
    the body, as ``bot.knowledge.articles.parse_article`` reads it back."""
    import yaml

    meta: dict[str, object] = {"title": content.title}
    if content.category:
        meta["category"] = content.category
    if content.tags:
        meta["tags"] = list(content.tags)
    if content.questions:
        meta["questions"] = list(content.questions)
    meta["updated"] = updated.date().isoformat()
    if status:
        meta["status"] = status
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=100)
    return f"---\n{front}---\n{content.body.strip()}\n"


async def export_articles(
    session: AsyncSession, directory: Path, *, with_drafts: bool = False
) -> ExportReport:
    """Write every published article (with ``with_drafts`` every article) to ``directory``
    as ``<slug>.md``."""
    from bot.knowledge.versions import PUBLISHED, content_of

    report = ExportReport()
    files: list[tuple[Path, str]] = []
    for article in await session.scalars(select(Article).order_by(Article.slug)):
        live = article.status == PUBLISHED
        if not (live or with_drafts):
            report.left_out.append(f"{article.slug} ({article.status})")
            continue
        text = article_markdown(
            content_of(article), article.updated_at, "" if live else article.status
        )
        files.append((directory / f"{article.slug}.md", text))
    await asyncio.to_thread(_write, directory, files)
    report.written = [path for path, _ in files]
    return report


def _write(directory: Path, files: list[tuple[Path, str]]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for path, text in files:
        path.write_text(text, "utf-8")
