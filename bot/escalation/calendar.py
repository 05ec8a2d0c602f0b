"""Business-hours arithmetic: when the team is working, and how much working time lies between
two instants.

A ``BusinessCalendar`` is a weekly schedule of local periods (several per day) in one IANA time
zone, minus holidays. Durations are real elapsed seconds inside open periods, so a day on which
the clocks change is as long as it really is. All inputs and outputs are timezone-aware; inputs
in any zone are taken to UTC before any arithmetic, and results are in UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.config import WEEKDAYS, BusinessHours, parse_period

# Enough for any schedule with at least one period a week, holidays included.
_SEARCH_DAYS = 400

Span = tuple[int, int]  # minutes after local midnight: [start, end)


@dataclass(frozen=True)
class BusinessCalendar:
    tz: ZoneInfo
    weekly: tuple[tuple[Span, ...], ...]  # Monday first, seven entries
    holidays: frozenset[date] = field(default_factory=frozenset)
    always_open: bool = False

    @classmethod
    def around_the_clock(cls, timezone: str = "UTC") -> BusinessCalendar:
        return cls(ZoneInfo(timezone), ((),) * 7, frozenset(), always_open=True)

    @classmethod
    def from_config(cls, hours: BusinessHours | None) -> BusinessCalendar:
        """``None`` (no ``business_hours`` in helpdesk.yml) means around the clock."""
        if hours is None:
            return cls.around_the_clock()
        weekly = tuple(
            tuple(sorted(parse_period(p) for p in hours.weekly.get(day, []))) for day in WEEKDAYS
        )
        return cls(ZoneInfo(hours.timezone), weekly, frozenset(hours.holidays))

    # --- queries ---------------------------------------------------------------------------

    def is_open(self, at: datetime) -> bool:
        at = _utc(at)
        if self.always_open:
            return True
        return any(start <= at < end for start, end in self._periods_around(at))

    def next_open(self, at: datetime) -> datetime:
        """``at`` itself when open, else the start of the next open period (UTC)."""
        at = _utc(at)
        if self.always_open:
            return at.astimezone(UTC)
        for start, end in self._periods_from(at):
            if end > at:
                return max(start, at).astimezone(UTC)
        raise ValueError("the calendar never opens")  # guarded by config validation

    def add(self, start: datetime, seconds: float) -> datetime:
        """The instant when ``seconds`` of business time have passed since ``start``."""
        start = _utc(start)
        if self.always_open:
            return (start + timedelta(seconds=seconds)).astimezone(UTC)
        remaining = timedelta(seconds=seconds)
        for period_start, period_end in self._periods_from(start):
            if period_end <= start:
                continue
            begin = max(period_start, start)
            available = period_end - begin
            if remaining <= available:
                return (begin + remaining).astimezone(UTC)
            remaining -= available
        raise ValueError("the calendar never opens")

    def seconds_between(self, start: datetime, end: datetime) -> float:
        """Business seconds in ``[start, end)``; 0 when ``end`` is not after ``start``."""
        start, end = _utc(start), _utc(end)
        if end <= start:
            return 0.0
        if self.always_open:
            return (end - start).total_seconds()
        total = timedelta()
        for period_start, period_end in self._periods_from(start):
            if period_start >= end:
                break
            overlap = min(period_end, end) - max(period_start, start)
            if overlap > timedelta():
                total += overlap
        return total.total_seconds()

    def local(self, at: datetime) -> datetime:
        return at.astimezone(self.tz)

    # --- periods ---------------------------------------------------------------------------

    def _periods_on(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        if day in self.holidays:
            return
        for start, end in self.weekly[day.weekday()]:
            yield self._at(day, start), self._at(day, end)

    def _at(self, day: date, minutes: int) -> datetime:
        if minutes >= 24 * 60:
            local = datetime.combine(day + timedelta(days=1), time(0), self.tz)
        else:
            local = datetime.combine(day, time(minutes // 60, minutes % 60), self.tz)
        # Round-trip through UTC: a wall time skipped by a DST change maps onto a real instant.
        return local.astimezone(UTC)

    def _periods_from(self, at: datetime) -> Iterator[tuple[datetime, datetime]]:
        first = self.local(at).date() - timedelta(days=1)  # a period may run past midnight UTC
        for offset in range(_SEARCH_DAYS):
            yield from self._periods_on(first + timedelta(days=offset))

    def _periods_around(self, at: datetime) -> Iterator[tuple[datetime, datetime]]:
        day = self.local(at).date()
        for offset in (-1, 0, 1):
            yield from self._periods_on(day + timedelta(days=offset))


def _utc(at: datetime) -> datetime:
    """Arithmetic on aware datetimes of one zone is wall-clock arithmetic in Python (an hour
    too many or too few across a DST change): every input is taken to UTC first."""
    if at.tzinfo is None:
        raise ValueError("business-time arithmetic needs timezone-aware datetimes")
    return at.astimezone(UTC)
