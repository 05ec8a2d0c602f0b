"""The web chat's per-session log in the database (``web_chat_log``), behind the kernel's
``SessionLog``: the web adapter appends what a visitor wrote and what was sent to them, and
replays a session from the last entry a browser saw. Whichever process sends (the web process
or a worker's outbox sender), the entry is here for every web process to find."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.messages import LoggedMessage
from bot.storage.models import WebChatEntry


class DatabaseSessionLog:
    def __init__(self, *, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def append(self, session: str, body: Mapping[str, Any], *, client_id: str = "") -> int:
        entry = WebChatEntry(
            session=session,
            client_id=client_id or None,
            body=dict(body),
            created_at=self._clock.now(),
        )
        async with self._sessions() as db:
            db.add(entry)
            try:
                await db.commit()
            except IntegrityError:  # the browser sent this message before: keep the first
                await db.rollback()
                seq = await db.scalar(
                    select(WebChatEntry.id).where(
                        WebChatEntry.session == session, WebChatEntry.client_id == client_id
                    )
                )
                if seq is None:
                    raise
                return seq
            return entry.id

    async def since(self, session: str, after: int, limit: int) -> list[LoggedMessage]:
        async with self._sessions() as db:
            rows = await db.execute(
                select(WebChatEntry.id, WebChatEntry.body)
                .where(WebChatEntry.session == session, WebChatEntry.id > after)
                .order_by(WebChatEntry.id)
                .limit(limit)
            )
            return [LoggedMessage(seq=seq, session=session, body=body) for seq, body in rows]

    async def latest(self, sessions: Collection[str]) -> dict[str, int]:
        if not sessions:
            return {}
        async with self._sessions() as db:
            rows = await db.execute(
                select(WebChatEntry.session, func.max(WebChatEntry.id))
                .where(WebChatEntry.session.in_(list(sessions)))
                .group_by(WebChatEntry.session)
            )
            return {session: seq for session, seq in rows}
