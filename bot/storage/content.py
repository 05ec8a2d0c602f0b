"""Content versions and the admin audit trail.

An admin's change to the desk's content (articles, intents) bumps that kind's version in the
same transaction as the change. Every process remembers the version it serves and, before
answering, compares it with the row (one primary-key read): behind means reload. So the next
message after "published" is answered with the change in every process, with no restart and no
message bus.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import AuditEntry, ContentVersion
from bot.storage.upsert import insert_unless_exists

ARTICLES = "articles"
INTENTS = "intents"


async def current_version(session: AsyncSession, kind: str) -> int:
    """The version of ``kind`` now committed; 0 before its first change."""
    version = await session.scalar(
        select(ContentVersion.version).where(ContentVersion.kind == kind)
    )
    return version or 0


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
