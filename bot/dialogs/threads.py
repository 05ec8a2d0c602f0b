"""Which threads of shared channels the help desk follows.

A customer starts a conversation in a shared channel by mentioning the bot; from then on the
thread is the conversation and needs no mention. The thread is followed exactly when its dialog
session exists — written in the same transaction that first answers there — so the answer is
the same in every process and after any restart, and strangers' chatter in other threads is
never taken in.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.messages import ChannelRef
from bot.storage.models import DialogSession


async def follows_thread(sessions: async_sessionmaker[AsyncSession], where: ChannelRef) -> bool:
    if where.thread is None:
        return False
    async with sessions() as session:
        found = await session.scalar(
            select(DialogSession.id).where(DialogSession.conversation == str(where)).limit(1)
        )
    return found is not None
