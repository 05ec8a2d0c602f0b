"""Which threads of shared channels the help desk follows.

A customer starts a conversation in a shared channel by mentioning the bot; from then on the
thread is the conversation and needs no mention. A thread is followed from the moment its first
message is accepted (``follow``, before the platform is acknowledged), and — for threads
followed before that record existed — wherever a dialog session lives in it. Both are in the
database, so every process, before or after a restart, lets the same messages in, and
strangers' chatter in other threads is never taken in.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.messages import ChannelRef, Inbound
from bot.storage.models import DialogSession, FollowedThread


def in_shared_thread(inbound: Inbound, agent_channels: Collection[str]) -> bool:
    """A message handed over from a thread of a shared channel (not a DM, not an agent or
    managers' channel): the adapter only hands over mentions and followed threads."""
    return (
        not inbound.is_direct
        and inbound.channel.thread is not None
        and str(inbound.channel.without_thread) not in agent_channels
    )


async def follow(
    sessions: async_sessionmaker[AsyncSession], where: ChannelRef, now: datetime
) -> None:
    """Follow the thread ``where`` from now on (idempotent; safe when processes race)."""
    async with sessions() as session:
        if await session.get(FollowedThread, str(where)) is not None:
            return
        session.add(FollowedThread(conversation=str(where), created_at=now))
        try:
            await session.commit()
        except IntegrityError:  # another process recorded it first
            await session.rollback()


async def follows_thread(sessions: async_sessionmaker[AsyncSession], where: ChannelRef) -> bool:
    if where.thread is None:
        return False
    conversation = str(where)
    async with sessions() as session:
        if await session.get(FollowedThread, conversation) is not None:
            return True
        found = await session.scalar(
            select(DialogSession.id).where(DialogSession.conversation == conversation).limit(1)
        )
    return found is not None
