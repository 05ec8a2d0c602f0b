"""The inbox: every inbound is stored (unique on platform + event id) before the platform is
acknowledged, so a crash after the ack loses nothing and a redelivery is a no-op.

A row is handled exactly once:

- a process **claims** it (``status='processing'``, ``claimed_by``, ``lease_until``) with one
  conditional UPDATE, so two processes never both take it; a lease that runs out (the process
  died) makes it claimable again;
- only the **head** of a conversation is claimable: the oldest row still pending or processing.
  A conversation's inbounds are therefore handled one at a time, in arrival order, whichever
  process holds them and across restarts;
- the handler's transaction marks it ``done`` itself (``mark_done``), fenced on the claim: if
  the lease was lost to another process, the mark fails and the whole transaction rolls back.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from bot.masking import mask_cards_in_payload
from bot.messages import ChannelRef, Inbound, InboundKind
from bot.storage.models import InboxMessage

PENDING, PROCESSING, DONE, FAILED = "pending", "processing", "done", "failed"
# failed, and its payload since removed by the retention policy: nothing left to retry
EXPIRED = "expired"
UNFINISHED = (PENDING, PROCESSING)
ERROR_LIMIT = 2000

Sessions = async_sessionmaker[AsyncSession]


class LeaseLost(Exception):
    """The claim on an inbox row passed to another process (the lease ran out): this process
    must not commit the row's effects."""


@dataclass(frozen=True)
class Claim:
    """An inbox row this process holds until ``lease_until``; ``attempts`` counts this one."""

    row_id: int
    inbound: Inbound
    conversation: str
    attempts: int
    owner: str


def inbound_to_dict(inbound: Inbound) -> dict[str, Any]:
    data = asdict(inbound)
    data["channel"] = str(inbound.channel)
    data["kind"] = inbound.kind.value
    data["fields"] = dict(inbound.fields)
    data["attachments"] = list(inbound.attachments)
    data["groups"] = list(inbound.groups)
    data["received_at"] = inbound.received_at.isoformat() if inbound.received_at else None
    data.pop("raw", None)
    return data


def inbound_from_dict(data: dict[str, Any]) -> Inbound:
    values = dict(data)
    values["channel"] = ChannelRef.parse(values["channel"])
    values["kind"] = InboundKind(values["kind"])
    values["attachments"] = tuple(values.get("attachments", ()))
    values["groups"] = tuple(values.get("groups", ()))
    values["context"] = tuple(values.get("context", ()))
    received = values.get("received_at")
    values["received_at"] = datetime.fromisoformat(received) if received else None
    return Inbound(**values)


async def record(
    sessions: Sessions, inbound: Inbound, now: datetime, *, conversation: str | None = None
) -> int | None:
    """Store the inbound; returns its row id, or None when it was already stored (a redelivery).
    ``conversation`` is the key that orders handling (default: the inbound's channel)."""
    async with sessions() as session:
        row = InboxMessage(
            platform=inbound.platform,
            event_id=inbound.event_id,
            conversation=(conversation or str(inbound.channel))[:255],
            # card numbers never reach the database in clear; the masked text is what is handled
            payload=mask_cards_in_payload(inbound_to_dict(inbound)),
            received_at=now,
            status=PENDING,
            attempts=0,
            next_attempt_at=now,
        )
        session.add(row)
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
            return None
        return row.id


def _claimable(now: datetime) -> ColumnElement[bool]:
    """Due pending rows, and rows whose holder's lease ran out."""
    return or_(
        and_(InboxMessage.status == PENDING, InboxMessage.next_attempt_at <= now),
        and_(InboxMessage.status == PROCESSING, InboxMessage.lease_until < now),
    )


def _is_head() -> ColumnElement[bool]:
    """No earlier row of the same conversation is still pending or processing."""
    earlier = aliased(InboxMessage)
    return ~exists().where(
        earlier.conversation == InboxMessage.conversation,
        earlier.id < InboxMessage.id,
        earlier.status.in_(UNFINISHED),
    )


async def claim_next(
    sessions: Sessions, conversation: str, *, owner: str, now: datetime, lease: timedelta
) -> Claim | None:
    """Claim the head of ``conversation`` if it is claimable now; None otherwise (nothing left,
    waiting for a retry, or held by a live process). One statement: the conditional UPDATE of
    the conversation's oldest unfinished row returns the row it took."""
    head = (
        select(InboxMessage.id)
        .where(InboxMessage.conversation == conversation)
        .where(InboxMessage.status.in_(UNFINISHED))
        .order_by(InboxMessage.id)
        .limit(1)
        .scalar_subquery()
    )
    async with sessions() as session:
        taken = (
            await session.execute(
                update(InboxMessage)
                .where(InboxMessage.id == head, _claimable(now), _is_head())
                .values(
                    status=PROCESSING,
                    claimed_by=owner,
                    lease_until=now + lease,
                    attempts=InboxMessage.attempts + 1,
                )
                .returning(
                    InboxMessage.id,
                    InboxMessage.payload,
                    InboxMessage.conversation,
                    InboxMessage.attempts,
                )
                .execution_options(synchronize_session=False)
            )
        ).one_or_none()
        if taken is None:
            await session.rollback()
            return None
        await session.commit()
    row_id, payload, claimed_conversation, attempts = taken
    return Claim(
        row_id=row_id,
        inbound=inbound_from_dict(payload),
        conversation=claimed_conversation,
        attempts=attempts,
        owner=owner,
    )


async def claimable_conversations(sessions: Sessions, now: datetime, limit: int) -> list[str]:
    """Conversations whose head row can be claimed now, oldest first."""
    async with sessions() as session:
        rows = await session.execute(
            select(InboxMessage.conversation, func.min(InboxMessage.id).label("first"))
            .where(_claimable(now), _is_head())
            .group_by(InboxMessage.conversation)
            .order_by("first")
            .limit(limit)
        )
        return [conversation for conversation, _ in rows]


async def next_due(sessions: Sessions) -> datetime | None:
    """When a row next becomes claimable (a retry falls due, a lease runs out); None: never."""
    async with sessions() as session:
        retry = await session.scalar(
            select(func.min(InboxMessage.next_attempt_at)).where(InboxMessage.status == PENDING)
        )
        lease = await session.scalar(
            select(func.min(InboxMessage.lease_until)).where(InboxMessage.status == PROCESSING)
        )
    times = [t for t in (retry, lease) if t is not None]
    return min(times) if times else None


async def renew(sessions: Sessions, claim: Claim, until: datetime) -> bool:
    """Extend the lease of a row still held; False when it was lost."""
    async with sessions() as session:
        result = await session.execute(
            update(InboxMessage)
            .where(_held(claim))
            .values(lease_until=until)
            .execution_options(synchronize_session=False)
        )
        await session.commit()
        return _rowcount(result) == 1


async def mark_done(session: AsyncSession, claim: Claim, now: datetime) -> None:
    """Mark the claimed row handled, inside the transaction that carries its effects. Raises
    ``LeaseLost`` (roll that transaction back) when another process took the row over."""
    await _finish(session, claim, status=DONE, now=now, error=None)


async def mark_failed(session: AsyncSession, claim: Claim, now: datetime, error: str) -> None:
    """Keep the claimed row as failed for good, with its error (an operator may retry it)."""
    await _finish(session, claim, status=FAILED, now=now, error=error)


async def retry_later(sessions: Sessions, claim: Claim, at: datetime, error: str) -> bool:
    """Hand the claimed row back for another attempt at ``at``; False when it was lost."""
    async with sessions() as session:
        result = await session.execute(
            update(InboxMessage)
            .where(_held(claim))
            .values(
                status=PENDING,
                next_attempt_at=at,
                lease_until=None,
                error=error[:ERROR_LIMIT],
            )
            .execution_options(synchronize_session=False)
        )
        await session.commit()
        return _rowcount(result) == 1


async def _finish(
    session: AsyncSession, claim: Claim, *, status: str, now: datetime, error: str | None
) -> None:
    result = await session.execute(
        update(InboxMessage)
        .where(_held(claim))
        .values(
            status=status,
            processed_at=now,
            lease_until=None,
            error=error[:ERROR_LIMIT] if error is not None else None,
        )
        .execution_options(synchronize_session=False)
    )
    if _rowcount(result) != 1:
        raise LeaseLost(f"inbox row {claim.row_id} is no longer held by {claim.owner}")


def _held(claim: Claim) -> ColumnElement[bool]:
    return and_(
        InboxMessage.id == claim.row_id,
        InboxMessage.status == PROCESSING,
        InboxMessage.claimed_by == claim.owner,
    )


def _rowcount(result: Any) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


# --- for operators: ``helpdesk inbox list|retry`` and the counts in ``helpdesk config show``


@dataclass(frozen=True)
class InboxFilter:
    """Which rows an operator means; None matches any."""

    status: str | None = None
    platform: str | None = None
    conversation: str | None = None
    ids: tuple[int, ...] = ()

    def where(self) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = []
        if self.status:
            clauses.append(InboxMessage.status == self.status)
        if self.platform:
            clauses.append(InboxMessage.platform == self.platform)
        if self.conversation:
            clauses.append(InboxMessage.conversation == self.conversation)
        if self.ids:
            clauses.append(InboxMessage.id.in_(self.ids))
        return clauses


async def failed_count(session: AsyncSession) -> int:
    """Inbounds kept as failed after their last attempt: each waits for an operator."""
    found = await session.scalar(
        select(func.count()).select_from(InboxMessage).where(InboxMessage.status == FAILED)
    )
    return int(found or 0)


async def counts(sessions: Sessions) -> dict[str, int]:
    """Rows by status that need an eye: ``failed`` (kept after the last attempt), ``pending``
    and ``processing`` (in hand or waiting for a retry)."""
    async with sessions() as session:
        rows = await session.execute(
            select(InboxMessage.status, func.count())
            .where(InboxMessage.status != DONE)
            .group_by(InboxMessage.status)
        )
        found = {status: int(n) for status, n in rows}
    return {status: found.get(status, 0) for status in (FAILED, PENDING, PROCESSING)}


async def listing(sessions: Sessions, which: InboxFilter, limit: int) -> list[dict[str, Any]]:
    """Rows matching ``which`` (by default the ones not done), oldest first."""
    clauses = which.where() or [InboxMessage.status.not_in((DONE, EXPIRED))]
    async with sessions() as session:
        rows = await session.scalars(
            select(InboxMessage).where(*clauses).order_by(InboxMessage.id).limit(limit)
        )
        return [_row_view(row) for row in rows]


def _row_view(row: InboxMessage) -> dict[str, Any]:
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": row.id,
        "platform": row.platform,
        "event_id": row.event_id,
        "conversation": row.conversation,
        "status": row.status,
        "attempts": row.attempts,
        "error": row.error,
        "received_at": iso(row.received_at),
        "next_attempt_at": iso(row.next_attempt_at),
        "text": str(row.payload.get("text", ""))[:200],
    }


async def requeue(sessions: Sessions, which: InboxFilter) -> int:
    """Make failed rows matching ``which`` pending again, due at once (due since they arrived,
    whatever the clock of the process that handles them), with a fresh attempt count; returns
    how many. Rows in any other state are left alone."""
    async with sessions() as session:
        result = await session.execute(
            update(InboxMessage)
            .where(InboxMessage.status == FAILED, *which.where())
            .values(
                status=PENDING,
                attempts=0,
                next_attempt_at=InboxMessage.received_at,
                processed_at=None,
                claimed_by=None,
                lease_until=None,
            )
            .execution_options(synchronize_session=False)
        )
        await session.commit()
        return _rowcount(result)
