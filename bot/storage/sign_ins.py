"""One-time sign-in links to the managers' dashboard: issued in chat, redeemed once on the web.

The link carries a random token; the table keeps only its SHA-256, so a copy of the database
holds no usable link. Redeeming is one conditional UPDATE (unused and not expired), so two
clicks racing each other — or two web processes — let exactly one of them in.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import DashboardSignIn


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_sign_in(session: AsyncSession, person: str, *, now: datetime, ttl: timedelta) -> str:
    """A new token for ``person`` ("platform:user-id"), valid for ``ttl``, in the caller's
    transaction. The token itself is returned once and never stored."""
    token = secrets.token_urlsafe(32)
    session.add(
        DashboardSignIn(
            token_hash=_hash(token), person=person, created_at=now, expires_at=now + ttl
        )
    )
    return token


async def redeem_sign_in(session: AsyncSession, token: str, *, now: datetime) -> str | None:
    """The person a valid, unused ``token`` was issued to, marking it used; None for a used,
    expired or unknown one. The caller commits."""
    if not token or len(token) > 200:
        return None
    result = await session.execute(
        update(DashboardSignIn)
        .where(
            DashboardSignIn.token_hash == _hash(token),
            DashboardSignIn.used_at.is_(None),
            DashboardSignIn.expires_at > now,
        )
        .values(used_at=now)
        .returning(DashboardSignIn.person)
    )
    person = result.scalar_one_or_none()
    return str(person) if person is not None else None
