"""The business calendar against a minute-stepping reference, around the 2026 DST changes of
three zones (random but seeded schedules, holidays and instants; inputs given in UTC, in the
calendar's zone or in an unrelated zone). The reference knows nothing of periods as instants:
it asks, for each minute, whether the local wall clock shows an open time."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import WEEKDAYS, BusinessHours
from bot.escalation.calendar import BusinessCalendar

MINUTE = timedelta(minutes=1)


def utc(month: int, day: int, hour: int) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


# the 2026 DST changes of each zone, as UTC instants: spring forward, fall back
ZONES = {
    "Europe/Berlin": (utc(3, 29, 1), utc(10, 25, 1)),
    "America/New_York": (utc(3, 8, 7), utc(11, 1, 6)),
    "Australia/Sydney": (utc(10, 3, 16), utc(4, 4, 16)),
}
INPUT_ZONES = (UTC, ZoneInfo("Asia/Kolkata"), ZoneInfo("America/Los_Angeles"))
CASES_PER_ZONE = 60


def random_hours(rng: random.Random, zone: str, around: datetime) -> BusinessHours:
    """One to three periods on most days, edges on the half hour away from the 01–04 h night
    where the clocks change (an edge the clock skips has no wall-clock meaning to compare)."""
    edges = [0, *range(5 * 60, 24 * 60 + 1, 30)]
    weekly: dict[str, list[str]] = {}
    for day in WEEKDAYS:
        if rng.random() < 0.2:
            continue
        picked = sorted(rng.sample(edges, 2 * rng.randint(1, 3)))
        spans = list(zip(picked[::2], picked[1::2], strict=True))
        weekly[day] = [f"{_hhmm(a)}-{_hhmm(b)}" for a, b in spans]
    if not weekly:
        weekly["mon"] = ["09:00-17:00"]
    local_day = around.astimezone(ZoneInfo(zone)).date()
    holidays = [local_day + timedelta(days=rng.randint(-5, 5)) for _ in range(rng.randint(0, 2))]
    return BusinessHours(timezone=zone, weekly=weekly, holidays=holidays)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


class Reference:
    """Open or not, minute by minute, from the local wall clock."""

    def __init__(self, hours: BusinessHours) -> None:
        self.tz = ZoneInfo(hours.timezone)
        self.holidays: set[date] = set(hours.holidays)
        self.weekly = {
            WEEKDAYS.index(day): [
                (int(p[:2]) * 60 + int(p[3:5]), int(p[6:8]) * 60 + int(p[9:11])) for p in periods
            ]
            for day, periods in hours.weekly.items()
        }

    def open_at(self, instant: datetime) -> bool:
        local = instant.astimezone(self.tz)
        if local.date() in self.holidays:
            return False
        minute = local.hour * 60 + local.minute
        return any(a <= minute < b for a, b in self.weekly.get(local.weekday(), []))

    def minutes_between(self, start: datetime, end: datetime) -> int:
        at, count = start.astimezone(UTC), 0
        while at < end:
            count += self.open_at(at)
            at += MINUTE
        return count

    def add(self, start: datetime, minutes: int) -> datetime:
        at, left = start.astimezone(UTC), minutes
        if left == 0:
            while not self.open_at(at):
                at += MINUTE
            return at
        while True:
            if self.open_at(at):
                left -= 1
                if left == 0:
                    return at + MINUTE
            at += MINUTE


def around(rng: random.Random, change: datetime) -> datetime:
    """A whole minute within three days of ``change``."""
    return change + timedelta(minutes=rng.randint(-3 * 24 * 60, 3 * 24 * 60))


@pytest.mark.parametrize("zone", sorted(ZONES))
def test_business_time_matches_minute_stepping_across_dst(zone: str) -> None:
    rng = random.Random(f"calendar-{zone}")  # fixed seed: the same cases every run
    disagreements: list[str] = []
    for change in ZONES[zone]:
        for _ in range(CASES_PER_ZONE):
            hours = random_hours(rng, zone, change)
            calendar, reference = BusinessCalendar.from_config(hours), Reference(hours)
            start = around(rng, change).astimezone(rng.choice((*INPUT_ZONES, reference.tz)))
            end = start + timedelta(minutes=rng.randint(0, 2 * 24 * 60))
            end = end.astimezone(rng.choice((*INPUT_ZONES, reference.tz)))
            expected = reference.minutes_between(start, end) * 60
            if calendar.seconds_between(start, end) != expected:
                disagreements.append(f"between {start} {end} {hours}")
            target = rng.randint(0, 12 * 60)
            if calendar.add(start, target * 60) != reference.add(start, target):
                disagreements.append(f"add {start} {target} min {hours}")
    assert disagreements == []


@pytest.mark.parametrize("zone", sorted(ZONES))
def test_round_the_clock_counts_real_time_whatever_the_inputs_zone(zone: str) -> None:
    calendar = BusinessCalendar.around_the_clock(zone)
    tz = ZoneInfo(zone)
    for change in ZONES[zone]:
        start = (change - timedelta(hours=1)).astimezone(tz)  # local, an hour before the change
        assert calendar.add(start, 2 * 3600) == change + timedelta(hours=1)
        assert calendar.seconds_between(start, (change + timedelta(hours=1)).astimezone(tz)) == (
            2 * 3600
        )


def test_an_office_day_across_spring_forward_counts_real_time_for_local_inputs() -> None:
    """Sunday 29 March 2026 in Berlin, open all day: from 01:00 to 04:00 local is 2 real hours."""
    berlin = ZoneInfo("Europe/Berlin")
    hours = BusinessHours(timezone="Europe/Berlin", weekly={"sun": ["00:00-24:00"]})
    calendar = BusinessCalendar.from_config(hours)
    start = datetime(2026, 3, 29, 1, 0, tzinfo=berlin)
    assert calendar.add(start, 2 * 3600) == datetime(2026, 3, 29, 4, 0, tzinfo=berlin)
    assert calendar.seconds_between(start, datetime(2026, 3, 29, 4, 0, tzinfo=berlin)) == 7200
