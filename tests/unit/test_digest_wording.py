"""The digest reads as a manager would write it: singular counts in the singular, and a met
percentage that never rounds up to 100 % (or down to 0 %) when it is not."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.reports.digest import format_digest, window
from bot.reports.metrics import AgentLoad, Attainment, Durations, Metrics

AS_OF = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def digest_of(**figures: object) -> list[str]:
    span = window("day", AS_OF, "UTC")
    metrics = Metrics(start=span.start, end=span.end, **figures)  # type: ignore[arg-type]
    return format_digest(metrics, span).splitlines()


def test_one_of_each_is_said_in_the_singular() -> None:
    lines = digest_of(
        suggestions_shown=1,
        first_response=Durations(1, 60.0, 60.0),
        resolution=Durations(1, 3600.0, 3600.0),
        first_response_sla=Attainment(met=0, total=1),
        sla_breaches=1,
        csat_count=1,
        csat_average=4.0,
        csat_distribution={4: 1},
        resolved=1,
        agents=[AgentLoad("Sam", claimed=1, resolved=1)],
    )
    text = "\n".join(lines)
    assert "1 breach" in text and "1 breaches" not in text
    assert "(1 case)" in text and "1 cases" not in text
    assert "from 1 rating " in text and "1 ratings" not in text
    assert "1 answer shown" in text and "1 answers" not in text


def test_many_stay_plural() -> None:
    text = "\n".join(
        digest_of(
            sla_breaches=2,
            first_response=Durations(3, 60.0, 90.0),
            csat_count=2,
            csat_average=4.5,
            csat_distribution={4: 1, 5: 1},
        )
    )
    assert "2 breaches" in text
    assert "(3 cases)" in text
    assert "from 2 ratings" in text


def test_a_miss_never_shows_as_100_percent_nor_a_hit_as_0() -> None:
    (sla,) = [
        line
        for line in digest_of(
            first_response_sla=Attainment(met=199, total=200),
            resolution_sla=Attainment(met=1, total=1000),
        )
        if line.startswith("SLA:")
    ]
    assert "199/200 met (99.5%)" in sla
    assert "1/1000 met (0.1%)" in sla
    assert "(100%)" not in sla and "(0%)" not in sla


def test_whole_percentages_stay_short() -> None:
    (sla,) = [
        line
        for line in digest_of(
            first_response_sla=Attainment(met=200, total=200),
            resolution_sla=Attainment(met=1, total=3),
        )
        if line.startswith("SLA:")
    ]
    assert "200/200 met (100%)" in sla
    assert "1/3 met (33%)" in sla
