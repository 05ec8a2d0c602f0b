"""Intake: the one entry point for every inbound, and its error boundary.

inbox (dedupe) → customer dialog or agent desk → mark processed. A failure is logged with its
traceback; the person gets a kind sentence, never exception text; the inbound stays in the inbox
with the error, so nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.dialogs import replies
from bot.dialogs.desk import AgentDesk
from bot.dialogs.engine import DialogEngine
from bot.errors import UserFacingError
from bot.messages import Inbound, Outbound
from bot.storage import inbox
from bot.storage.uow import UnitOfWorkFactory

logger = logging.getLogger(__name__)


class Intake:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        uow_factory: UnitOfWorkFactory,
        engine: DialogEngine,
        desk: AgentDesk,
        agent_channels: set[str],
        clock: Clock,
    ) -> None:
        self._sessions = sessions
        self._uow_factory = uow_factory
        self._engine = engine
        self._desk = desk
        self._agent_channels = agent_channels
        self._clock = clock
        self._background: set[asyncio.Task[None]] = set()

    async def receive(self, inbound: Inbound) -> bool:
        """Store and process one inbound. False when it was a redelivery (already handled)."""
        row_id = await inbox.record(self._sessions, inbound, self._clock.now())
        if row_id is None:
            logger.info("duplicate event %s:%s ignored", inbound.platform, inbound.event_id)
            return False
        await self._process(row_id, inbound)
        return True

    async def accept(self, inbound: Inbound) -> bool:
        """Store the inbound and process it in the background: what an adapter calls before it
        acknowledges the platform (Slack wants an answer within 3 s). Once stored, a crash loses
        nothing: ``recover`` picks it up on the next start."""
        row_id = await inbox.record(self._sessions, inbound, self._clock.now())
        if row_id is None:
            logger.info("duplicate event %s:%s ignored", inbound.platform, inbound.event_id)
            return False
        task = asyncio.create_task(self._process(row_id, inbound))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return True

    async def wait_idle(self) -> None:
        """Wait until every accepted inbound has been processed."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def recover(self) -> int:
        """Process inbounds stored before a crash but never handled."""
        pending = await inbox.unprocessed(self._sessions)
        for row_id, inbound in pending:
            await self._process(row_id, inbound)
        return len(pending)

    async def _process(self, row_id: int, inbound: Inbound) -> None:
        error: str | None = None
        try:
            if str(inbound.channel.without_thread) in self._agent_channels:
                await self._desk.handle(inbound)
            else:
                await self._engine.handle(inbound)
        except UserFacingError as exc:
            await self._tell(inbound, exc.safe_message)
        except Exception as exc:  # the boundary: log it, tell the person kindly, keep the row
            logger.exception("failed to handle %s:%s", inbound.platform, inbound.event_id)
            error = f"{type(exc).__name__}: {exc}"[:2000]
            await self._tell(inbound, replies.UNKNOWN_ERROR)
        await inbox.mark_processed(self._sessions, row_id, self._clock.now(), error)

    async def _tell(self, inbound: Inbound, text: str) -> None:
        try:
            async with self._uow_factory() as uow:
                uow.send(Outbound(channel=inbound.channel, text=text))
                await uow.commit()
        except Exception:
            logger.exception("could not queue an error reply for %s", inbound.channel)
