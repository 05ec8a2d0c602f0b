"""The digest chart as a manager reads it: every local day of the period on the axis, quiet
ones too; counts on whole-number ticks with labelled axes; CSAT with its n; and an empty period
drawn as explicit "no data" panels rather than empty frames with a −0.04…0.04 axis. (Which
local day an event lands on is checked on the scripted week, test_digest_week.py.)"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.reports.chart import NO_DATA, draw, render_chart
from bot.reports.digest import window
from bot.reports.metrics import Day, Metrics

# Monday 12 January 2026, 09:00 in Berlin: the week before is 5–11 January
SPAN = window("week", datetime(2026, 1, 12, 8, 0, tzinfo=UTC), "Europe/Berlin")


def week(**per_day: list[int]) -> list[Day]:
    days = [f"2026-01-{d:02d}" for d in range(5, 12)]
    columns = {name: per_day.get(name, [0] * 7) for name in ("opened", "resolved", "backlog")}
    return [
        Day(day, columns["opened"][i], columns["resolved"][i], columns["backlog"][i])
        for i, day in enumerate(days)
    ]


def panels(metrics: Metrics) -> dict[str, Any]:
    figure = draw(metrics, SPAN)
    return {axes.get_title().split(" —")[0].split(" (")[0]: axes for axes in figure.axes}


def texts(axes: Any) -> list[str]:
    return [t.get_text() for t in axes.texts]


def test_every_day_of_the_period_is_on_the_axis_with_whole_number_ticks_and_labels() -> None:
    metrics = Metrics(
        start=SPAN.start,
        end=SPAN.end,
        opened=3,
        resolved=2,
        days=week(opened=[1, 0, 2, 0, 0, 0, 0], resolved=[0, 0, 0, 2, 0, 0, 0]),
        csat_distribution={1: 0, 2: 0, 3: 0, 4: 1, 5: 1},
    )
    by_title = panels(metrics)
    volume = by_title["Cases per day"]
    assert [t.get_text() for t in volume.get_xticklabels()] == [
        "01-05", "01-06", "01-07", "01-08", "01-09", "01-10", "01-11",
    ]  # fmt: skip
    assert volume.get_xlabel() == "local day (Europe/Berlin)"
    assert volume.get_ylabel() == "cases"
    assert all(tick == int(tick) for tick in volume.get_yticks())
    assert volume.get_ylim()[0] == 0
    assert [t.get_text() for t in volume.get_legend().get_texts()] == ["opened", "resolved"]
    csat = by_title["CSAT"]
    assert csat.get_title() == "CSAT (n = 2)"
    assert (csat.get_xlabel(), csat.get_ylabel()) == ("rating", "ratings")
    assert all(tick == int(tick) for tick in csat.get_yticks())
    assert NO_DATA not in texts(volume) + texts(csat)


def test_an_empty_period_says_no_data_in_every_panel() -> None:
    metrics = Metrics(start=SPAN.start, end=SPAN.end, days=week())
    by_title = panels(metrics)
    assert set(by_title) == {
        "Cases per day",
        "Open at each day's end",
        "SLA targets breached, by the day the case opened",
        "CSAT",
    }
    for axes in by_title.values():
        assert texts(axes) == [NO_DATA]
        assert axes.get_legend() is None
        assert list(axes.get_yticks()) == []  # no −0.04…0.04 axis
    assert by_title["CSAT"].get_title() == "CSAT (n = 0)"


def test_the_chart_is_written_as_a_png(tmp_path: Path) -> None:
    path = render_chart(
        Metrics(start=SPAN.start, end=SPAN.end, days=week()), tmp_path / "c.png", SPAN
    )
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
