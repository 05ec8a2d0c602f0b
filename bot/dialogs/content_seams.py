"""Where a knowledge gap or an accepted suggestion becomes desk content: a draft article
(``bot.knowledge.drafts.create_draft``) or new intent examples
(``bot.intents.catalog.add_examples``). Both are imported when called, so this module names
the one place to change should either move; a desk without them tells the admin so plainly
(``ContentUnavailable``) instead of pretending the change was made."""

from __future__ import annotations

import importlib
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import UserFacingError

DRAFTS = ("bot.knowledge.drafts", "create_draft")
EXAMPLES = ("bot.intents.catalog", "add_examples")


class ContentUnavailable(UserFacingError):
    """The article editor or the intent editor is not part of this desk."""


def _function(where: tuple[str, str], what: str) -> Any:
    module, name = where
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise ContentUnavailable(
            f"This desk cannot {what} from chat yet (it has no {module}.{name})."
        ) from exc


async def create_draft(
    session: AsyncSession,
    *,
    title: str,
    body: str,
    questions: list[str],
    actor: str,
    platform: str,
    at: datetime,
    source: str,
) -> str:
    """A draft article in the caller's transaction; its slug."""
    create = _function(DRAFTS, "make draft articles")
    slug = await create(
        session,
        title=title,
        body=body,
        questions=questions,
        actor=actor,
        platform=platform,
        at=at,
        source=source,
    )
    return str(slug)


async def add_examples(
    session: AsyncSession,
    intent: str,
    examples: list[str],
    *,
    actor: str,
    platform: str,
    at: datetime,
) -> int:
    """``examples`` added to ``intent`` in the caller's transaction; how many were new."""
    add = _function(EXAMPLES, "add intent examples")
    return int(await add(session, intent, examples, actor=actor, platform=platform, at=at))
