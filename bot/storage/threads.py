"""Where case threads are, as the database knows them: which thread a message id belongs to.

A case thread is found from the platform's thread id through ``sent_refs.message_key`` (the
escalation post, "platform:channel/thread"). Where a reply names the message it answers
instead (a Telegram group without topics), every line the bot writes in the thread is kept in
``reply_chains`` too, so a reply to any of them leads back to the case. Nothing of this lives in
an adapter's memory: every process, after any restart, routes the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import ChannelRef, SentRef
from bot.storage.models import ReplyChain, SentRefRecord


def message_key(platform: str, channel: str, message: str) -> str:
    return f"{platform}:{channel}/{message}"


@dataclass(frozen=True)
class ThreadOwner:
    """The record a thread (or a line of a reply chain) belongs to, and the thread's root."""

    key: str  # "case:12:post"
    root: ChannelRef  # the thread itself, for answers to go to

    @property
    def case_number(self) -> int | None:
        kind, _, rest = self.key.partition(":")
        number = rest.partition(":")[0]
        return int(number) if kind == "case" and number.isdigit() else None


async def remember_line(
    session: AsyncSession, thread_key: str, ref: SentRef, now: datetime
) -> None:
    """Keep where a line delivered in the thread ``thread_key`` landed (its root being
    ``ref.thread``). The post itself is already known through ``sent_refs``."""
    if not ref.thread or ref.thread == ref.message_id:
        return
    key = message_key(ref.platform, ref.channel, ref.message_id)
    if await session.get(ReplyChain, key) is None:
        session.add(
            ReplyChain(message_key=key, thread_key=thread_key, thread=ref.thread, created_at=now)
        )


async def owner_of(session: AsyncSession, where: ChannelRef) -> ThreadOwner | None:
    """The record whose thread ``where.thread`` is: a thread root, or a line of its chain."""
    if where.thread is None:
        return None
    key = message_key(where.platform, where.channel, where.thread)
    record = await session.scalar(
        select(SentRefRecord).where(SentRefRecord.message_key == key).limit(1)
    )
    if record is not None:
        return ThreadOwner(record.key, where)
    line = await session.get(ReplyChain, key)
    if line is not None:
        return ThreadOwner(line.thread_key, where.in_thread(line.thread))
    return None
