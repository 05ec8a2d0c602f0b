"""Outbox rows as operators and senders see them: writing a row, conversation leases, counts,
and the operator's verbs (list, retry, drop).

A lease (``outbox_leases``) gives one sender a conversation: taken atomically with an upsert
that succeeds only when the conversation is free, its lease expired, or already ours — the same
statement on SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import Outbound
from bot.storage.models import OutboxLease, OutboxMessage

logger = logging.getLogger(__name__)

PENDING, SENT, PARKED, DROPPED = "pending", "sent", "parked", "dropped"


def new_row(
    outbound: Outbound, now: datetime, *, ref_key: str | None = None, **extra: Any
) -> OutboxMessage:
    """An outbox row for ``outbound``, due now. ``extra`` (``edit_key``, ``thread_key``,
    ``notify``) rides in the payload; ``None`` values are left out."""
    payload = outbound.to_dict()
    payload.update({k: v for k, v in extra.items() if v is not None})
    return OutboxMessage(
        conversation=str(outbound.channel.without_thread),
        platform=outbound.channel.platform,
        payload=payload,
        status=PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        ref_key=ref_key,
    )


# --- leases ----------------------------------------------------------------------------------


async def take_lease(
    session: AsyncSession, conversation: str, owner: str, now: datetime, ttl: timedelta
) -> bool:
    """Take (or extend) ``owner``'s lease on ``conversation``; False while another live sender
    holds it. Commit right after: the lease must be visible to the other senders."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    expires = now + ttl
    statement = (
        insert(OutboxLease)
        .values(conversation=conversation, owner=owner, expires_at=expires)
        .on_conflict_do_update(
            index_elements=[OutboxLease.conversation],
            set_={"owner": owner, "expires_at": expires},
            where=(OutboxLease.owner == owner) | (OutboxLease.expires_at <= now),
        )
        .returning(OutboxLease.owner)
    )
    return (await session.execute(statement)).scalar_one_or_none() == owner


async def release_lease(session: AsyncSession, conversation: str, owner: str) -> None:
    await session.execute(
        delete(OutboxLease).where(
            OutboxLease.conversation == conversation, OutboxLease.owner == owner
        )
    )


# --- operators -------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxFilter:
    status: str | None = None
    platform: str | None = None
    conversation: str | None = None
    ids: Sequence[int] = ()

    def apply(self, query: Select[Any]) -> Select[Any]:
        if self.status:
            query = query.where(OutboxMessage.status == self.status)
        if self.platform:
            query = query.where(OutboxMessage.platform == self.platform)
        if self.conversation:
            query = query.where(OutboxMessage.conversation == self.conversation)
        if self.ids:
            query = query.where(OutboxMessage.id.in_(list(self.ids)))
        return query


async def delivery_counts(session: AsyncSession) -> dict[str, int]:
    """How many rows wait to go out (``pending``) and how many were given up on (``parked``)."""
    rows = await session.execute(
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.status.in_((PENDING, PARKED)))
        .group_by(OutboxMessage.status)
    )
    counts = {PENDING: 0, PARKED: 0}
    counts.update({status: count for status, count in rows})
    return counts


async def list_rows(
    session: AsyncSession, which: OutboxFilter, limit: int = 100
) -> list[OutboxMessage]:
    query = which.apply(select(OutboxMessage)).order_by(OutboxMessage.id).limit(limit)
    return list(await session.scalars(query))


async def requeue_parked(session: AsyncSession, which: OutboxFilter, now: datetime) -> int:
    """Parked rows go back in line, due now, with a fresh retry budget."""
    ids = list(await session.scalars(_parked_ids(which)))
    if ids:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(status=PENDING, attempts=0, failing_since=None, next_attempt_at=now)
        )
        logger.warning("outbox rows %s requeued", ids)
    return len(ids)


async def drop_parked(session: AsyncSession, which: OutboxFilter, now: datetime, by: str) -> int:
    """Give up on parked rows for good; they stay in the table, marked with who and when."""
    rows = list(
        await session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(_parked_ids(which))))
    )
    for row in rows:
        row.status = DROPPED
        note = f"dropped by {by} at {now.isoformat(timespec='seconds')}"
        row.last_error = f"{row.last_error} — {note}" if row.last_error else note
    if rows:
        logger.warning("outbox rows %s dropped by %s", [r.id for r in rows], by)
    return len(rows)


def _parked_ids(which: OutboxFilter) -> Select[Any]:
    return which.apply(select(OutboxMessage.id)).where(OutboxMessage.status == PARKED)
