"""Digest figures against a small hand-made history where every number is known (SQLite and
PostgreSQL). The window is Monday 5 January 2026 (UTC); the digest is taken on Tuesday 09:00,
so suggestions shown after Monday 09:00 are still inside their 24 h deflection window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.reports.digest import build_digest, window
from bot.storage.models import AnswerFeedback, Case, CaseEvent, Customer
from bot.storage.uow import UnitOfWorkFactory

D = datetime(2026, 1, 5, tzinfo=UTC)
AS_OF = D + timedelta(days=1, hours=9)


def h(hours: float) -> datetime:
    return D + timedelta(hours=hours)


def case(
    number: int,
    created: float,
    *,
    subject: str,
    status: str,
    conversation: str | None = None,
    first_response: float | None = None,
    first_due: float | None = None,
    resolved: float | None = None,
    resolution_due: float | None = None,
    claimed: float | None = None,
    agent: str | None = None,
    **extra: Any,
) -> Case:
    def at(hours: float | None) -> datetime | None:
        return None if hours is None else h(hours)

    return Case(
        id=number,
        customer_id=1,
        conversation=conversation or f"fake:c{number}",
        subject=subject,
        status=status,
        origin_platform="fake",
        created_at=h(created),
        updated_at=h(created),
        first_response_at=at(first_response),
        first_response_due_at=at(first_due),
        resolved_at=at(resolved),
        resolution_due_at=at(resolution_due),
        claimed_at=at(claimed),
        assignee=f"fake:{agent.lower()}" if agent else None,
        assignee_name=agent,
        **extra,
    )


def cases() -> list[Case]:
    return [
        # opened and resolved on Monday
        case(
            1,
            8,
            subject="Order late",
            status="resolved",
            conversation="fake:conv-d",
            first_response=8 + 10 / 60,
            first_due=9,
            resolved=10,
            resolution_due=12,
            claimed=8.1,
            agent="Dana",
            csat=5,
            intent="order_status",
        ),
        case(
            2,
            9,
            subject="Refund",
            status="resolved",
            first_response=9.5,
            first_due=9.25,
            resolved=15,
            resolution_due=13,
            claimed=9.3,
            agent="Dana",
            csat=3,
            reopen_count=1,
            intent="billing",
        ),
        case(
            3,
            10,
            subject="Where is my order",
            status="resolved",
            first_response=11,
            first_due=11,
            resolved=11.5,
            resolution_due=18,
            claimed=10.5,
            agent="Eve",
            intent="order_status",
        ),
        # opened on Monday, still open
        case(
            4,
            11,
            subject="How do I pair the hub",
            status="open",
            priority="high",
            first_response=13,
            first_due=12,
            claimed=12.8,
            agent="Eve",
            intent="device_setup",
        ),
        case(5, 12, subject="Hub won't pair?", status="new", priority="urgent"),
        case(
            7,
            14,
            subject="Where is my order.",
            status="pending",
            first_response=14 + 20 / 60,
            first_due=15,
            claimed=14 + 10 / 60,
            agent="Eve",
            intent="order_status",
        ),
        # opened on Sunday evening, answered and resolved on Monday
        case(
            6,
            -4,
            subject="Charged twice",
            status="resolved",
            first_response=8.5,
            first_due=0,
            resolved=16,
            resolution_due=10,
            claimed=8 + 20 / 60,
            agent="Dana",
            csat=4,
            intent="billing",
        ),
        # opened on Tuesday: outside the window
        case(8, 27, subject="Later", status="new", conversation="fake:conv-g"),
    ]


def feedback(conversation: str, hours: float, helpful: bool | None, query: str = "q") -> Any:
    return AnswerFeedback(
        conversation=f"fake:conv-{conversation}",
        query=query,
        article_slug="some-article",
        helpful=helpful,
        created_at=h(hours),
    )


def feedback_rows() -> list[AnswerFeedback]:
    return [
        feedback("a", 7, True),  # confirmed
        feedback("b", 7.5, True),  # confirmed
        feedback("c", 8, None),  # assumed: nothing followed within 24 h
        feedback("d", 6, None),  # not deflected: case 1 opened in conv-d two hours later
        feedback("e", 5, None),  # not deflected: "not helpful" ten minutes later …
        feedback("e", 5 + 10 / 60, False, "How do I pair the hub?"),  # … an unanswered question
        feedback("f", 10, None),  # undecided: its 24 h end on Tuesday 10:00, after the digest
        feedback("g", 2, None),  # assumed: case 8 came in conv-g 25 h later, too late to count
        feedback("h", -1, True),  # Sunday: outside the window
    ]


async def seed(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as s, s.begin():
        s.add(Customer(id=1, display_name="Ada", created_at=h(-48)))
        await s.flush()
        s.add_all(cases())
        await s.flush()
        s.add_all(feedback_rows())
        for number, hours in ((2, 9.25), (2, 13), (4, 12), (6, -0.5)):
            s.add(
                CaseEvent(
                    case_id=number,
                    kind="sla_breach",
                    author="bot",
                    body="breach",
                    data={},
                    created_at=h(hours),
                )
            )


async def test_every_figure_of_a_daily_digest(
    sessions: async_sessionmaker[AsyncSession], uow_factory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    await seed(sessions)
    chart = tmp_path / "charts" / "day.png"
    async with uow_factory() as uow:
        digest = await build_digest(uow, "day", AS_OF, "UTC", chart_path=chart)
    m = digest.metrics
    assert (m.start, m.end) == (D, D + timedelta(days=1))
    assert (m.opened, m.resolved, m.backlog) == (6, 4, 3)
    assert m.backlog_by_status == {"open": 1, "new": 1, "pending": 1}
    assert m.backlog_by_priority == {"high": 1, "urgent": 1, "normal": 1}
    shown = (m.suggestions_shown, m.deflected_confirmed, m.deflected_assumed)
    assert shown == (8, 2, 2) and m.deflection_undecided == 1
    # first responses: 10 min, 10 min, 30 min, 60 min, 120 min, 750 min
    assert (m.first_response.count, m.first_response.median_s) == (6, 45 * 60)
    assert m.first_response.p90_s == 750 * 60
    # resolutions: 1.5 h, 2 h, 6 h, 20 h
    assert (m.resolution.median_s, m.resolution.p90_s) == (4 * 3600, 20 * 3600)
    assert (m.first_response_sla.met, m.first_response_sla.total) == (3, 6)
    assert (m.resolution_sla.met, m.resolution_sla.total) == (2, 4)
    assert m.sla_breaches == 3
    assert (m.csat_count, m.csat_average) == (3, 4.0)
    assert m.csat_distribution == {1: 0, 2: 0, 3: 1, 4: 1, 5: 1}
    assert (m.reopened, m.reopen_rate) == (1, 0.25)
    assert m.top_intents == [("order_status", 3), ("billing", 1), ("device_setup", 1)]
    assert m.top_unanswered == [
        ("how do i pair the hub", 2),
        ("where is my order", 2),
        ("refund", 1),
        ("hub won't pair", 1),
    ]
    loads = [(a.agent, a.claimed, a.resolved, a.open_now) for a in m.agents]
    assert loads == [("Dana", 3, 3, 0), ("Eve", 3, 1, 2)]

    lines = digest.text.splitlines()
    assert lines[0] == "Daily digest — Mon 05 Jan 2026 (UTC)"
    assert lines[1] == (
        "Cases: 6 opened · 4 resolved · backlog 3 (new 1, open 1, pending 1; "
        "urgent 1, high 1, normal 1)"
    )
    assert "First response: median 45 min · p90 12 h 30 min (6 cases)" in lines
    assert "Resolution: median 4 h 00 min · p90 20 h 00 min (4 cases)" in lines
    assert "SLA: first response 3/6 met (50%) · resolution 2/4 met (50%) · 3 breaches" in lines
    assert "CSAT: 4.00 from 3 ratings (1★ 0 · 2★ 0 · 3★ 1 · 4★ 1 · 5★ 1)" in lines
    assert "Reopened: 1 of 4 resolved (25%)" in lines
    assert lines[-1] == f"Chart: {chart}"
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


async def test_after_the_24_hours_the_undecided_suggestion_counts_as_deflected(
    sessions: async_sessionmaker[AsyncSession], uow_factory: UnitOfWorkFactory
) -> None:
    await seed(sessions)
    async with uow_factory() as uow:
        later = await build_digest(uow, "day", AS_OF + timedelta(hours=2), "UTC")
    assert (later.metrics.deflected_assumed, later.metrics.deflection_undecided) == (3, 0)


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
