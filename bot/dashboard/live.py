"""The dashboard's live feed: one snapshot per change, shared by every open page.

How a change is noticed, in this process or any other: a cheap poll of a change counter. Every
case change the dashboard shows — opened, claimed, released, resolved, an SLA warning or breach
recorded by the scheduler — writes a line to the case's audit trail in the same transaction, and
every answer shown writes an ``answer_feedback`` row; the highest ids of those two tables are
the counter (two primary-key index reads, on SQLite and PostgreSQL alike). Chosen over
PostgreSQL's LISTEN/NOTIFY because it needs no extra writes in the services, no connection held
open per web process and works on the embedded SQLite database too; the cost is up to one poll
interval of delay.

One poller runs per web process while at least one page is open. It rebuilds the snapshot when
the counter moves, and every ``refresh`` anyway (the day rolls over; 24-hour deflection windows
close). Pages wait on a condition; nothing polls per page.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.models import AnswerFeedback, CaseEvent

logger = logging.getLogger(__name__)

Build = Callable[[], Awaitable[dict[str, Any]]]


async def change_counter(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    async with sessions() as session:
        events = await session.scalar(select(func.max(CaseEvent.id)))
        answers = await session.scalar(select(func.max(AnswerFeedback.id)))
    return int(events or 0), int(answers or 0)


@dataclass(frozen=True)
class Snapshot:
    serial: int  # increases with every rebuild: what a page has seen
    body: str  # the JSON the page renders


class LiveFigures:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        build: Build,
        poll_seconds: float = 1.0,
        refresh_seconds: float = 60.0,
    ) -> None:
        self._sessions = sessions
        self._build = build
        self._poll = poll_seconds
        self._refresh = refresh_seconds
        self._latest: Snapshot | None = None
        self._changed = asyncio.Condition()
        self._watchers = 0
        self._poller: asyncio.Task[None] | None = None

    async def current(self) -> Snapshot:
        """The latest snapshot (built now if no page keeps the poller running)."""
        if self._latest is None or self._poller is None:
            await self._rebuild()
        assert self._latest is not None
        return self._latest

    async def _rebuild(self) -> None:
        body = json.dumps(await self._build(), separators=(",", ":"))
        async with self._changed:
            serial = self._latest.serial + 1 if self._latest else 1
            self._latest = Snapshot(serial, body)
            self._changed.notify_all()

    async def watch(self, *, heartbeat: float) -> AsyncIterator[Snapshot | None]:
        """Each new snapshot as it is built (the current one first); None every ``heartbeat``
        seconds without a change, so the caller can re-check the session and keep proxies from
        closing an idle connection."""
        self._watchers += 1
        if self._poller is None:
            self._poller = asyncio.create_task(self._run())
        try:
            seen = 0
            while True:
                async with self._changed:
                    try:
                        await asyncio.wait_for(
                            self._changed.wait_for(partial(self._newer_than, seen)),
                            heartbeat,
                        )
                    except TimeoutError:
                        latest = None
                    else:
                        latest = self._latest
                if latest is None:
                    yield None
                    continue
                seen = latest.serial
                yield latest
        finally:
            self._watchers -= 1
            if self._watchers == 0 and self._poller is not None:
                self._poller.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._poller
                self._poller = None

    def _newer_than(self, serial: int) -> bool:
        return self._latest is not None and self._latest.serial != serial

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        counter: tuple[int, int] | None = None
        built_at = 0.0
        while True:
            try:
                now_counter = await change_counter(self._sessions)
                stale = loop.time() - built_at >= self._refresh
                if now_counter != counter or stale or self._latest is None:
                    await self._rebuild()
                    counter, built_at = now_counter, loop.time()
            except Exception:  # the page keeps its last figures; the next poll tries again
                logger.exception("dashboard: the figures could not be read")
            await asyncio.sleep(self._poll)  # the poll interval itself, not a wait for an event
