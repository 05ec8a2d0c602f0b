"""What ``/readyz`` checks: the database answers, its schema is at the code's head revision,
each adapter that holds a connection still has it, and the outbox is not stuck. Each check is
independent and bounded by a short timeout, so one hung dependency is named instead of hanging
the probe."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.messages import Channel, HoldsConnection
from bot.storage.migrate import SHIPPED_HEAD, revision_of
from bot.storage.models import OutboxMessage

CHECK_TIMEOUT_SECONDS = 2.0
# a pending row due this long ago means the sender is not sending (down, or wedged)
OUTBOX_OVERDUE_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str

    def as_json(self) -> dict[str, object]:
        return {"ok": self.ok, "detail": self.detail}


Readiness = Callable[[], Awaitable[dict[str, Check]]]


def readiness(
    sessions: async_sessionmaker[AsyncSession],
    channels: Mapping[str, Channel],
    clock: Clock,
    *,
    overdue_after: timedelta = OUTBOX_OVERDUE_AFTER,
    timeout: float = CHECK_TIMEOUT_SECONDS,
) -> Readiness:
    """The readiness callable the web app runs on each ``/readyz``."""

    async def check_all() -> dict[str, Check]:
        checks = {
            "database": await _bounded(_database(sessions), timeout),
            "migrations": await _bounded(_migrations(sessions), timeout),
            "outbox": await _bounded(_outbox(sessions, clock, overdue_after), timeout),
        }
        for name, channel in channels.items():
            checks[f"adapter:{name}"] = _adapter(channel)
        return checks

    return check_all


def adapters_only(channels: Mapping[str, Channel]) -> Readiness:
    """Readiness without a database to ask (an app built around adapters alone)."""

    async def check_adapters() -> dict[str, Check]:
        return {f"adapter:{name}": _adapter(channel) for name, channel in channels.items()}

    return check_adapters


async def _bounded(check: Awaitable[Check], within: float) -> Check:
    try:
        return await asyncio.wait_for(check, within)
    except TimeoutError:
        return Check(False, f"no answer within {within:g} s")
    except Exception as error:  # a probe reports what is wrong; it never raises
        return Check(False, f"{type(error).__name__}: {error}")


async def _database(sessions: async_sessionmaker[AsyncSession]) -> Check:
    async with sessions() as session:
        await session.execute(text("SELECT 1"))
    return Check(True, "reachable")


async def _migrations(sessions: async_sessionmaker[AsyncSession]) -> Check:
    async with sessions() as session:
        connection = await session.connection()
        current = await connection.run_sync(revision_of)
    head = SHIPPED_HEAD
    if current != head:
        return Check(False, f"database at {current or 'no revision'}, code expects {head}")
    return Check(True, f"at {head}")


async def _outbox(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, overdue_after: timedelta
) -> Check:
    due_before = clock.now() - overdue_after
    async with sessions() as session:
        overdue = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at < due_before)
        )
        parked = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "parked")
        )
    minutes = int(overdue_after.total_seconds() // 60)
    # parked rows are reported, not failed on: the sender gave up on them by design and they
    # wait for an operator (``helpdesk outbox retry``), while the rest keeps flowing
    detail = f"{overdue or 0} pending more than {minutes} min past due, {parked or 0} parked"
    return Check(not overdue, detail)


def _adapter(channel: Channel) -> Check:
    if not isinstance(channel, HoldsConnection):
        return Check(True, "configured")  # receives over HTTP or polls: nothing held to lose
    if channel.failure:
        return Check(False, channel.failure)
    return Check(True, "connected")
