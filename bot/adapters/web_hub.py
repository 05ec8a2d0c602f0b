"""Which browsers of this process follow which web chat sessions, and telling them of new log
entries.

Every connected browser (a WebSocket or an event stream) is a ``Follower`` with the last
``seq`` it was given; its connection pumps entries from the log after that ``seq`` whenever it
is woken, so nothing is pushed twice or skipped, whoever woke it. Wake-ups come from:

- ``send`` in this process (at once);
- a poll of the log (``SessionLog.latest`` for the followed sessions, one indexed query per
  tick, only while browsers are connected) — for entries another process wrote: a worker's
  outbox sender, another web process. A poll by sequence rather than LISTEN/NOTIFY because it
  works the same on SQLite and PostgreSQL, needs no connection held outside the pool, and
  cannot miss a notification while a listener reconnects; its cost is one query per tick per
  web process, and its price a delay of at most one tick for replies sent elsewhere.

Within a session entries are written one at a time (the outbox sends a conversation's rows in
order; a visitor's messages are acknowledged before the next is sent), so "newest seq above
what I gave" is exact.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.messages import LoggedMessage, SessionLog

logger = logging.getLogger(__name__)

PAGE = 100  # entries per query while catching a browser up


@dataclass(eq=False)
class Follower:
    session: str
    last_seq: int
    deliver: Callable[[LoggedMessage], Awaitable[None]]
    retry_seconds: float = 1.0
    woken: asyncio.Event = field(default_factory=asyncio.Event)

    async def pump(self, log: SessionLog) -> None:
        """Deliver every entry after ``last_seq``, now and whenever woken, until cancelled. A
        failed read of the log (a database busy under load) is tried again: a pump that died
        would leave its browser connected and deaf."""
        self.woken.set()
        while True:
            await self.woken.wait()
            self.woken.clear()
            try:
                entries = await log.since(self.session, self.last_seq, PAGE)
            except Exception:
                logger.warning("web chat: reading a session log failed; trying again")
                await asyncio.sleep(self.retry_seconds)
                self.woken.set()
                continue
            for entry in entries:
                await self.deliver(entry)
                self.last_seq = entry.seq
            if len(entries) == PAGE:
                self.woken.set()


class SessionHub:
    def __init__(self, *, poll_seconds: float) -> None:
        self._followers: dict[str, set[Follower]] = {}
        self._poll_seconds = poll_seconds
        self._poller: asyncio.Task[None] | None = None

    def follow(self, follower: Follower) -> None:
        self._followers.setdefault(follower.session, set()).add(follower)

    def leave(self, follower: Follower) -> None:
        followers = self._followers.get(follower.session)
        if followers is not None:
            followers.discard(follower)
            if not followers:
                del self._followers[follower.session]

    def wake(self, session: str) -> None:
        for follower in self._followers.get(session, ()):
            follower.woken.set()

    @property
    def sessions(self) -> list[str]:
        return list(self._followers)

    def start(self, log: SessionLog) -> None:
        if self._poller is None:
            self._poller = asyncio.create_task(self._poll(log))

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None

    async def _poll(self, log: SessionLog) -> None:
        while True:
            await asyncio.sleep(self._poll_seconds)
            if not self._followers:
                continue
            try:
                await self.check(log)
            except Exception:  # the database restarting: the next tick tries again
                logger.exception("web chat: polling the session log failed")

    async def check(self, log: SessionLog) -> None:
        """Wake the followers that are behind the log (entries written by other processes)."""
        latest = await log.latest(self.sessions)
        for session, seq in latest.items():
            for follower in self._followers.get(session, ()):
                if seq > follower.last_seq:
                    follower.woken.set()
