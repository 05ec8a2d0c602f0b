"""What ``/metrics`` reads from the database when it is scraped: figures that belong to the
whole deployment rather than to the process serving the scrape (the worker may send the outbox
while the web process answers the scrape)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from bot.clock import Clock
from bot.metrics import DatabaseFigures, exposition
from bot.reports.deflection import WINDOW as DEFLECTION_WINDOW
from bot.storage.inbox import failed_count
from bot.storage.models import AnswerFeedback, Case
from bot.storage.outbox import PARKED, PENDING, delivery_counts

logger = logging.getLogger(__name__)

# a scrape must answer even when the database does not
READ_TIMEOUT_SECONDS = 2.0
ASSUMED_REFRESH_SECONDS = 300.0

Scrape = Callable[[], Awaitable[bytes]]


def scrape(
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    *,
    timeout: float = READ_TIMEOUT_SECONDS,
    assumed_every: float = ASSUMED_REFRESH_SECONDS,
) -> Scrape:
    """The callable ``/metrics`` runs: the database-wide gauges read (bounded by ``timeout``),
    then the whole registry in Prometheus' text format. Assumed deflections, the one figure
    that costs a scan of the history, are counted again at most every ``assumed_every``
    seconds: they change only as 24-hour windows close."""
    assumed = _Every(assumed_every)

    async def figures() -> DatabaseFigures:
        async with sessions() as session:
            outbox = await delivery_counts(session)
            return DatabaseFigures(
                outbox_depth=outbox[PENDING],
                outbox_parked=outbox[PARKED],
                inbox_failed=await failed_count(session),
                deflections_assumed=await assumed.value(
                    lambda: assumed_deflections(session, clock.now())
                ),
            )

    async def exposition_now() -> bytes:
        try:
            read = await asyncio.wait_for(figures(), timeout)
        except Exception as error:  # the counters still answer; the gauge says it was missed
            logger.warning("metrics: the database-wide gauges were not read: %r", error)
            read = None
        return exposition(read)

    return exposition_now


class _Every:
    """A value computed again only once ``seconds`` have passed since the last computation."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._value: int | None = None
        self._at = 0.0

    async def value(self, compute: Callable[[], Awaitable[int]]) -> int:
        now = time.monotonic()
        if self._value is None or now - self._at >= self._seconds:
            self._value, self._at = await compute(), now
        return self._value


async def assumed_deflections(session: AsyncSession, now: datetime) -> int:
    """Suggestions whose 24 h have passed unanswered, with no case opened and no "not helpful"
    said in that conversation within them — the digest's *assumed deflections*
    (``bot.reports.deflection``), counted over all time in one query."""
    shown = aliased(AnswerFeedback)
    refused = aliased(AnswerFeedback)
    dialect = session.bind.dialect.name if session.bind is not None else ""
    later_case = exists().where(
        Case.conversation == shown.conversation,
        _within_a_day(Case.created_at, shown.created_at, dialect),
    )
    later_no = exists().where(
        refused.conversation == shown.conversation,
        refused.helpful.is_(False),
        _within_a_day(refused.created_at, shown.created_at, dialect),
    )
    count = await session.scalar(
        select(func.count())
        .select_from(shown)
        .where(
            shown.helpful.is_(None),
            shown.created_at <= now - DEFLECTION_WINDOW,
            ~later_case,
            ~later_no,
        )
    )
    return int(count or 0)


def _within_a_day(later: Any, earlier: Any, dialect: str) -> Any:
    """``earlier <= later < earlier + 24 h``, in the database's own date arithmetic."""
    hours = int(DEFLECTION_WINDOW.total_seconds() // 3600)
    if dialect == "sqlite":  # stored as UTC text; julianday counts days
        days = func.julianday(later) - func.julianday(earlier)
        return (days >= 0) & (days < hours / 24)
    return (later >= earlier) & (later < earlier + text(f"interval '{hours} hours'"))
