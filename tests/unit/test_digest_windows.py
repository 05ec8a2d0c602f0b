"""Digest windows: local calendar days, ISO weeks and months, across DST changes. (The figures
themselves are checked against a scripted week in test_digest_week.py.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.reports.digest import previous, window


def test_windows_follow_local_calendar_days_weeks_and_months() -> None:
    # Monday 30 March 2026, 09:00 in Berlin (CEST): the day before began at 00:00 CET.
    as_of = datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    day = window("day", as_of, "Europe/Berlin")
    assert (day.key, day.start, day.end) == (
        "2026-03-29",
        datetime(2026, 3, 28, 23, 0, tzinfo=UTC),  # midnight CET
        datetime(2026, 3, 29, 22, 0, tzinfo=UTC),  # midnight CEST
    )
    assert (day.end - day.start) == timedelta(hours=23)
    week = window("week", as_of, "Europe/Berlin")
    assert (week.key, week.local_start.date().isoformat()) == ("2026-W13", "2026-03-23")
    assert week.label == "week 13, 23 Mar – 29 Mar 2026"
    month = window("month", as_of, "Europe/Berlin")
    assert (month.key, month.label, month.end) == (
        "2026-02",
        "February 2026",
        datetime(2026, 2, 28, 23, 0, tzinfo=UTC),
    )
    today = window("day", as_of, "Europe/Berlin", complete=False)
    assert (today.key, today.end) == ("2026-03-30", as_of)


def test_the_period_before_is_the_whole_one_before_also_for_a_period_so_far() -> None:
    as_of = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # a Wednesday
    so_far = window("week", as_of, "Europe/Berlin", complete=False)
    before = previous(so_far)
    assert (before.key, before.end) == ("2026-W09", so_far.start)
    assert before.end - before.start == timedelta(days=7)
