"""The digest reads as a manager would write it: singular counts in the singular, a met
percentage that never rounds up to 100 % (or down to 0 %) when it is not, durations rounded
rather than cut, n beside every median, and ``stats`` titled as a period still running."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.reports.deflection import Breakdown
from bot.reports.digest import duration, format_digest, window
from bot.reports.metrics import AgentCredit, Durations, Metrics, Target

AS_OF = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def digest_of(**figures: object) -> list[str]:
    span = window("day", AS_OF, "UTC")
    metrics = Metrics(start=span.start, end=span.end, **figures)  # type: ignore[arg-type]
    return format_digest(metrics, span).splitlines()


def test_one_of_each_is_said_in_the_singular() -> None:
    lines = digest_of(
        deflection=Breakdown(confirmed=1),
        first_response=Durations(1, 60.0, 60.0, 120.0, 120.0),
        resolution=Durations(1, 3600.0, 3600.0, 7200.0, 7200.0),
        first_response_sla=Target(breached=1),
        opened=1,
        reopened=1,
        csat_distribution={4: 1},
        csat_resolutions=1,
        csat_rated=1,
        resolved=1,
        agents=[AgentCredit("Sam", claimed=1, replied=1, resolved=1)],
    )
    text = "\n".join(lines)
    assert "1 breach" in text and "1 breaches" not in text
    assert "SLA of the 1 case opened" in text and "1 cases" not in text
    assert "from 1 rating " in text and "1 ratings" not in text
    assert "1 answer shown" in text and "1 answers" not in text
    assert "1 reopen" in text and "1 reopens" not in text
    assert "Sam 1 claimed, 1 reply, 1 resolved" in text
    assert "of 1 resolution rated" in text


def test_many_stay_plural() -> None:
    text = "\n".join(
        digest_of(
            opened=3,
            first_response_sla=Target(breached=2),
            first_response=Durations(3, 60.0, 90.0, 60.0, 90.0),
            csat_distribution={4: 1, 5: 1},
        )
    )
    assert "2 breaches" in text
    assert "SLA of the 3 cases opened" in text
    assert "from 2 ratings" in text


def test_a_miss_never_shows_as_100_percent_nor_a_hit_as_0() -> None:
    (sla,) = [
        line
        for line in digest_of(
            first_response_sla=Target(met=199, breached=1),
            resolution_sla=Target(met=1, breached=999),
        )
        if line.startswith("SLA ")
    ]
    assert "199/200 met (99.5%)" in sla
    assert "1/1000 met (0.1%)" in sla
    assert "(100%)" not in sla and "(0%)" not in sla


def test_whole_percentages_stay_short() -> None:
    (sla,) = [
        line
        for line in digest_of(
            first_response_sla=Target(met=200),
            resolution_sla=Target(met=1, breached=2),
        )
        if line.startswith("SLA ")
    ]
    assert "200/200 met (100%)" in sla
    assert "1/3 met (33%)" in sla


def test_durations_round_to_the_nearest_unit_they_show() -> None:
    assert duration(5 * 86400 + 20 * 3600 + 59 * 60) == "5 d 21 h"
    assert duration(5 * 86400 + 20 * 3600 + 29 * 60) == "5 d 20 h"
    assert duration(23 * 3600 + 59 * 60 + 40) == "1 d 0 h"
    assert duration(8 * 3600 + 44 * 60 + 31) == "8 h 45 min"
    assert duration(59 * 60 + 29) == "59 min"


def test_medians_carry_their_n_and_clock_time_and_few_cases_are_marked() -> None:
    (line,) = [
        line
        for line in digest_of(first_response=Durations(2, 15 * 60.0, 20 * 60.0, 31440.0, 32000.0))
        if line.startswith("First response")
    ]
    assert line == (
        "First response, business hours (clock time): median 15 min (8 h 44 min) · "
        "p90 20 min (8 h 53 min) · n = 2, few cases: read with care"
    )
    (line,) = [
        line
        for line in digest_of(resolution=Durations(5, 60.0, 60.0, 60.0, 60.0))
        if line.startswith("Resolution")
    ]
    assert line.endswith("· n = 5")


def test_stats_are_titled_as_a_period_so_far() -> None:
    # Wednesday 2 December 2026, 14:05 in Berlin
    as_of = datetime(2026, 12, 2, 13, 5, tzinfo=UTC)
    week = window("week", as_of, "Europe/Berlin", complete=False)
    title = format_digest(Metrics(start=week.start, end=week.end), week).splitlines()[0]
    assert title == "This week so far, as of Wed 02 Dec 14:05 (CET) — week 49, 30 Nov – 06 Dec 2026"
    assert "digest" not in title.lower()
    today = window("day", as_of, "Europe/Berlin", complete=False)
    title = format_digest(Metrics(start=today.start, end=today.end), today).splitlines()[0]
    assert title == "Today so far, as of 14:05 (CET) — Wed 02 Dec 2026"


def test_explain_defines_every_figure_the_digest_shows() -> None:
    from typer.testing import CliRunner

    from bot.cli import app

    result = CliRunner().invoke(app, ["digest", "--explain"])
    assert result.exit_code == 0, result.output
    for figure in (
        "Opened", "Resolved", "Reopened", "Open at the end", "Deflection", "Earlier undecided",
        "First response time", "Resolution time", "Median, p90, n", "SLA", "CSAT",
        "Top topics", "Top unanswered", "Agents", "Chart",
    ):  # fmt: skip
        assert f"\n{figure}\n  " in f"\n{result.output}"
    assert "(confirmed + assumed) of the decided answers" in result.output
