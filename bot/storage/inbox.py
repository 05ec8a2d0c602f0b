"""The inbox: every inbound is stored (unique on platform + event id) before the platform is
acknowledged, so a crash after the ack loses nothing and a redelivery is a no-op."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.messages import ChannelRef, Inbound, InboundKind
from bot.storage.models import InboxMessage


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
    received = values.get("received_at")
    values["received_at"] = datetime.fromisoformat(received) if received else None
    return Inbound(**values)


async def record(
    sessions: async_sessionmaker[AsyncSession], inbound: Inbound, now: datetime
) -> int | None:
    """Store the inbound; returns its row id, or None when it was already stored (a redelivery)."""
    async with sessions() as session:
        row = InboxMessage(
            platform=inbound.platform,
            event_id=inbound.event_id,
            payload=inbound_to_dict(inbound),
            received_at=now,
        )
        session.add(row)
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
            return None
        return row.id


async def mark_processed(
    sessions: async_sessionmaker[AsyncSession], row_id: int, now: datetime, error: str | None = None
) -> None:
    async with sessions() as session:
        await session.execute(
            update(InboxMessage)
            .where(InboxMessage.id == row_id)
            .values(processed_at=now, error=error)
        )
        await session.commit()


async def unprocessed(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[int, Inbound]]:
    """Inbounds stored but never processed (the process died in between), oldest first."""
    async with sessions() as session:
        rows = await session.scalars(
            select(InboxMessage)
            .where(InboxMessage.processed_at.is_(None))
            .order_by(InboxMessage.id)
        )
        return [(row.id, inbound_from_dict(row.payload)) for row in rows]
