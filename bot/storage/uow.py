"""The unit of work: one database transaction per inbound message or job.

Create one per message from a ``UnitOfWorkFactory`` (never share an instance): everything a
message changes — case rows, transcript lines, outbox rows, the dialog session — commits or rolls
back together.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.events import Event
from bot.logs import about_case
from bot.messages import Outbound
from bot.storage.outbox import new_row


class UnitOfWork:
    """A transaction plus what it produced: outbox rows and domain events."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self.clock = clock
        self.events: list[Event] = []
        self._session: AsyncSession | None = None
        self._after_commit: list[Callable[[], None]] = []
        self._before_commit: list[Callable[[UnitOfWork], Awaitable[None]]] = []
        self.queued: set[str] = set()  # conversations this transaction queued rows for

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("unit of work used outside 'async with'")
        return self._session

    async def __aenter__(self) -> UnitOfWork:
        self._session = self._sessions()
        await self._session.begin()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._session is not None
        try:
            if exc_type is not None:
                await self._session.rollback()
        finally:
            await self._session.close()
            self._session = None

    async def commit(self) -> None:
        for handler in self._before_commit:  # event handlers: changes commit with the rest
            await handler(self)
        await self.session.commit()
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._after_commit.append(callback)

    def before_commit(self, handler: Callable[[UnitOfWork], Awaitable[None]]) -> None:
        """Run ``handler`` (e.g. on ``self.events``) inside the transaction, before each commit."""
        self._before_commit.append(handler)

    def emit(self, event: Event) -> None:
        self.events.append(event)
        about_case(event.case_number)  # the log lines from here on name the case

    def send(self, outbound: Outbound, *, ref_key: str | None = None, **extra: Any) -> None:
        """Queue ``outbound`` for delivery when this transaction commits.

        ``ref_key`` records where the message lands ("case:12:post"); ``extra`` may carry
        ``edit_key`` / ``thread_key`` naming an earlier ref to edit or reply under, and
        ``notify`` (see ``bot.delivery``) asking for a word in a case thread on the outcome.
        """
        row = new_row(outbound, self.clock.now(), ref_key=ref_key, **extra)
        self.session.add(row)
        self.queued.add(row.conversation)


UnitOfWorkFactory = Callable[[], UnitOfWork]
