"""Content versions and the admin audit trail.

An admin's change to the desk's content (articles, intents) bumps that kind's version in the
same transaction as the change. Every process remembers the version it serves and, before
answering, compares it with the row (one primary-key read): behind means reload. So the next
message after "published" is answered with the change in every process, with no restart and no
message bus.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import AuditEntry, ContentVersion
from bot.storage.upsert import insert_unless_exists

logger = logging.getLogger(__name__)

ARTICLES = "articles"
INTENTS = "intents"


async def current_version(session: AsyncSession, kind: str) -> int:
    """The version of ``kind`` now committed; 0 before its first change."""
    version = await session.scalar(
        select(ContentVersion.version).where(ContentVersion.kind == kind)
    )
    return version or 0


async def current_versions(session: AsyncSession, kinds: list[str]) -> dict[str, int]:
    """The versions of ``kinds`` now committed, in one statement; 0 for a kind never changed."""
    rows = await session.execute(
        select(ContentVersion.kind, ContentVersion.version).where(ContentVersion.kind.in_(kinds))
    )
    found = {kind: version for kind, version in rows}
    return {kind: found.get(kind) or 0 for kind in kinds}


CatchUp = Callable[[int], Awaitable[object]]


def catching_up(
    sessions: Callable[[], AsyncSession], parts: Mapping[str, CatchUp]
) -> Callable[[], Awaitable[None]]:
    """What runs before each message: one read of every kind's version, each live part (the
    knowledge base, the intent model) handed its own, so it reloads only when it is behind. A
    failed read is logged and the message is answered with what is loaded."""

    async def catch_up() -> None:
        try:
            async with sessions() as session:
                versions = await current_versions(session, list(parts))
        except Exception:
            logger.exception("could not read the content versions; answering as before")
            return
        for kind, part in parts.items():
            await part(versions[kind])

    return catch_up


async def bump_version(session: AsyncSession, kind: str, *, at: datetime, by: str = "") -> int:
    """Count one change to ``kind`` inside the caller's transaction and return the new version.
    The UPDATE takes the row lock, so concurrent changes get distinct, increasing versions."""
    await insert_unless_exists(
        session,
        ContentVersion,
        {"kind": kind, "version": 0, "changed_at": at, "changed_by": by},
        unique_on=["kind"],
    )
    result = await session.execute(
        update(ContentVersion)
        .where(ContentVersion.kind == kind)
        .values(version=ContentVersion.version + 1, changed_at=at, changed_by=by)
        .returning(ContentVersion.version)
    )
    return int(result.scalar_one())


def record_change(
    session: AsyncSession,
    *,
    at: datetime,
    actor: str,
    platform: str,
    action: str,
    target: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add one entry to the audit trail in the caller's transaction."""
    entry = AuditEntry(
        at=at, actor=actor, platform=platform, action=action, target=target, detail=detail or {}
    )
    session.add(entry)
    return entry
