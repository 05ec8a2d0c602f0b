"""Business-hours arithmetic across nights, weekends, holidays and daylight-saving changes
(Europe/Berlin: clocks go forward on 2026-03-29 and back on 2026-10-25)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.config import BusinessHours, DeskConfig
from bot.errors import ConfigError
from bot.escalation.calendar import BusinessCalendar

BERLIN = ZoneInfo("Europe/Berlin")
HOUR = 3600.0


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)  # type: ignore[misc]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def office(**overrides: object) -> BusinessCalendar:
    values: dict[str, object] = {
        "timezone": "Europe/Berlin",
        "weekly": {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
    }
    values.update(overrides)
    return BusinessCalendar.from_config(BusinessHours.model_validate(values))


def test_a_target_inside_one_working_day() -> None:
    # Monday 10:00 in Berlin (CET, UTC+1) plus four working hours is 14:00 local, 13:00 UTC.
    assert office().add(berlin(2026, 1, 5, 10), 4 * HOUR) == utc(2026, 1, 5, 13)


def test_the_night_does_not_count() -> None:
    assert office().add(berlin(2026, 1, 5, 15), 4 * HOUR) == berlin(2026, 1, 6, 11)


def test_the_weekend_does_not_count() -> None:
    calendar = office()
    friday_late = berlin(2026, 1, 9, 16)
    assert calendar.add(friday_late, 2 * HOUR) == berlin(2026, 1, 12, 10)
    assert calendar.seconds_between(friday_late, berlin(2026, 1, 12, 10)) == 2 * HOUR


def test_a_case_opened_on_saturday_starts_counting_on_monday_morning() -> None:
    assert office().add(berlin(2026, 1, 10, 11), 30 * 60) == berlin(2026, 1, 12, 9, 30)


def test_holidays_are_skipped() -> None:
    calendar = office(holidays=["2026-12-25"])
    # Thursday 24 Dec 16:00 + 2 h: Friday is a holiday, then the weekend → Monday 10:00.
    assert calendar.add(berlin(2026, 12, 24, 16), 2 * HOUR) == berlin(2026, 12, 28, 10)
    assert not calendar.is_open(berlin(2026, 12, 25, 11))
    assert calendar.next_open(berlin(2026, 12, 24, 18)) == berlin(2026, 12, 28, 9)


def test_several_periods_a_day_leave_the_lunch_break_out() -> None:
    calendar = office(weekly={"mon": ["09:00-12:00", "13:00-17:00"]})
    assert calendar.add(berlin(2026, 1, 5, 11), 2 * HOUR) == berlin(2026, 1, 5, 14)
    assert not calendar.is_open(berlin(2026, 1, 5, 12, 30))
    # Only Mondays are working days here: the next opening after Monday evening is a week on.
    assert calendar.next_open(berlin(2026, 1, 5, 18)) == berlin(2026, 1, 12, 9)


def test_spring_forward_weekend_keeps_local_office_hours() -> None:
    # Friday 27 March 16:00 CET (15:00 UTC); clocks go forward on Sunday. Monday 10:00 is CEST,
    # 08:00 UTC — adding hours in UTC would have said 09:00 UTC.
    due = office().add(berlin(2026, 3, 27, 16), 2 * HOUR)
    assert due == utc(2026, 3, 30, 8)
    assert due.astimezone(BERLIN).hour == 10


def test_fall_back_weekend_keeps_local_office_hours() -> None:
    # Friday 23 October 16:00 CEST (14:00 UTC) → Monday 26 October 10:00 CET (09:00 UTC).
    assert office().add(berlin(2026, 10, 23, 16), 2 * HOUR) == utc(2026, 10, 26, 9)


def test_a_round_the_clock_schedule_counts_real_hours_over_the_dst_night() -> None:
    always = office(weekly={day: ["00:00-24:00"] for day in ("sat", "sun")})
    # The local Sunday of the change has only 23 hours.
    assert always.seconds_between(berlin(2026, 3, 29, 0), berlin(2026, 3, 30, 0)) == 23 * HOUR
    assert always.seconds_between(berlin(2026, 10, 25, 0), berlin(2026, 10, 26, 0)) == 25 * HOUR
    # 24 business hours from Saturday noon CET end on Sunday at 13:00 CEST: 24 real hours.
    assert always.add(berlin(2026, 3, 28, 12), 24 * HOUR) == utc(2026, 3, 29, 11)


def test_no_business_hours_means_around_the_clock() -> None:
    calendar = BusinessCalendar.from_config(None)
    assert calendar.is_open(utc(2026, 1, 10, 3))
    assert calendar.add(utc(2026, 1, 10, 3), 5 * HOUR) == utc(2026, 1, 10, 8)


def test_is_open_and_next_open_in_office_hours() -> None:
    calendar = office()
    assert calendar.is_open(berlin(2026, 1, 5, 9))
    assert not calendar.is_open(berlin(2026, 1, 5, 17))
    assert calendar.next_open(berlin(2026, 1, 5, 10)) == berlin(2026, 1, 5, 10)
    assert calendar.next_open(berlin(2026, 1, 9, 17, 30)) == berlin(2026, 1, 12, 9)


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ({"timezone": "Europe/Nowhere"}, "business_hours.timezone"),
        ({"weekly": {"monday": ["09:00-17:00"]}}, "business_hours.weekly"),
        ({"weekly": {"mon": ["17:00-09:00"]}}, "ends before it starts"),
        ({"weekly": {"mon": ["09:00-12:00", "11:00-13:00"]}}, "periods overlap"),
        ({"weekly": {"mon": []}}, "no working periods"),
    ],
)
def test_invalid_business_hours_name_the_key(
    tmp_path: object, hours: dict[str, object], message: str
) -> None:
    from pathlib import Path

    import yaml

    from bot.config import load_desk_config

    assert isinstance(tmp_path, Path)
    path = tmp_path / "helpdesk.yml"
    path.write_text(yaml.safe_dump({"business_hours": hours}))
    with pytest.raises(ConfigError, match=message):
        load_desk_config(path)


def test_holidays_parse_as_dates() -> None:
    desk = DeskConfig.model_validate({"business_hours": {"holidays": ["2026-12-25"]}})
    assert desk.business_hours is not None
    assert desk.business_hours.holidays == [date(2026, 12, 25)]
