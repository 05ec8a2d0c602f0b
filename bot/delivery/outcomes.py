"""What the sender writes beside a row's outcome, in the same transaction: the agents' line in
a case thread, where a delivered message landed (sent refs), a customer marked unreachable."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import ChannelRef, Outbound, SentRef
from bot.storage.models import DialogSession, OutboxMessage, SentRefRecord
from bot.storage.outbox import PARKED, new_row

logger = logging.getLogger(__name__)

QUEUED_HERE = "outbox_rows_queued_for"


def park(
    session: AsyncSession, row: OutboxMessage, error: str, outcome: str, now: datetime
) -> None:
    row.status, row.last_error = PARKED, error[:2000]
    tell_agents(session, row, outcome, now)


def tell_agents(session: AsyncSession, row: OutboxMessage, outcome: str, now: datetime) -> None:
    """The line the row's ``notify`` holds for ``outcome`` (delivered / failed / unreachable),
    queued in the case thread in this transaction."""
    notify = row.payload.get("notify") or {}
    text = notify.get(outcome)
    if not text:
        return
    outbound = Outbound(channel=ChannelRef.parse(notify["channel"]), text=text)
    row = new_row(outbound, now, thread_key=notify.get("thread_key"))
    session.add(row)
    # the sender delivers it right after the commit (``queued_here``)
    session.info.setdefault(QUEUED_HERE, set()).add(row.conversation)


def queued_here(session: AsyncSession) -> set[str]:
    """The conversations ``tell_agents`` queued rows for in this session's transaction."""
    return set(session.info.get(QUEUED_HERE, ()))


async def is_unreachable(session: AsyncSession, conversation: str) -> bool:
    blocked = await session.scalar(
        select(DialogSession.blocked_at).where(DialogSession.conversation == conversation)
    )
    return blocked is not None


async def lookup_ref(session: AsyncSession, key: str) -> SentRef | None:
    record = await session.get(SentRefRecord, key)
    return SentRef.from_dict(record.ref) if record else None


async def remember_ref(session: AsyncSession, key: str, ref: SentRef, now: datetime) -> None:
    """Keep where the message under ``key`` landed (one upsert: a later one replaces it)."""
    thread = ref.thread or ref.message_id
    values = {
        "ref": ref.to_dict(),
        "message_key": f"{ref.platform}:{ref.channel}/{thread}",
        "updated_at": now,
    }
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    await session.execute(
        dialect.insert(SentRefRecord)
        .values(key=key, **values)
        .on_conflict_do_update(index_elements=[SentRefRecord.key], set_=values)
    )


async def mark_unreachable(session: AsyncSession, conversation: str, now: datetime) -> None:
    """The customer blocked the bot: stop sending there until they write again."""
    await session.execute(
        update(DialogSession)
        .where(DialogSession.conversation == conversation)
        .values(blocked_at=now)
    )
    logger.warning("conversation %s is unreachable; further messages are parked", conversation)
