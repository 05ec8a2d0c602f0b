"""Creating draft articles from elsewhere in the desk: an agent's answer in a resolved case
(``kb promote N``), a knowledge gap. A draft is never answered until an admin publishes it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.knowledge.versions import Content, Editor, add_draft
from bot.storage.uow import UnitOfWork

QUESTIONS_MAX = 10  # example questions kept on a draft
QUESTION_MAX_CHARS = 200
TITLE_MAX_CHARS = 150
BODY_MAX_CHARS = 3000  # fits a Slack modal field and, with its title, one Telegram message


async def create_draft(
    uow_or_session: UnitOfWork | AsyncSession,
    *,
    title: str,
    body: str,
    questions: list[str],
    actor: str,
    platform: str,
    at: datetime,
    source: str = "",
) -> str:
    """Add a draft article in the caller's transaction (the caller commits) and return its
    slug. ``source`` says where it came from ("case:12", "gap:3"): kept on the article (its
    ``source_path``). Text past what every platform can show and edit is cut; blank and
    repeated questions are dropped."""
    session = uow_or_session.session if isinstance(uow_or_session, UnitOfWork) else uow_or_session
    content = Content(
        title=_one_line(title)[:TITLE_MAX_CHARS] or "Untitled",
        body=body.strip()[:BODY_MAX_CHARS],
        questions=tuple(
            dict.fromkeys(_one_line(q)[:QUESTION_MAX_CHARS] for q in questions if _one_line(q))
        )[:QUESTIONS_MAX],
    )
    article = await add_draft(session, content, Editor(actor=actor, platform=platform), at)
    if source:
        article.source_path = source
    return article.slug


def _one_line(text: str) -> str:
    return " ".join(text.split())
