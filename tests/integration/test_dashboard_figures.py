"""The dashboard's figures are the digest's: on a seeded history of several weeks, today's and
this week's figures on the dashboard equal those of ``stats today`` / ``stats week`` (the
digest of the period so far) at the same moment, on SQLite and PostgreSQL. And the live part:
each open case's SLA clock and the moment it turns to a warning, as the SLA check sends it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.bootstrap import job_uow_factory
from bot.clock import FrozenClock
from bot.config import BusinessHours, DeskConfig, PrivacyConfig, QueueConfig
from bot.dashboard.figures import TOP_GAPS, GapsPanel, snapshot
from bot.dialogs.sla_notices import run_sla_check
from bot.escalation import sla
from bot.escalation.calendar import BusinessCalendar
from bot.escalation.sla import SLA_WARNING
from bot.escalation.sla_clock import CaseSlaClock
from bot.reports.digest import build_digest
from bot.reports.gaps import top_gaps
from bot.reports.metrics import Durations
from bot.reports.seed import seed_demo
from bot.storage.models import Case, CaseEvent, MissedQuestion
from bot.storage.uow import UnitOfWork, UnitOfWorkFactory
from tests.support.desk import build_transcript, test_desk

NOW = datetime(2026, 1, 8, 16, 40, tzinfo=UTC)  # a Thursday afternoon
DESK = DeskConfig(queues=[QueueConfig(name="default", channel="fake:agents")])


def _durations(d: Durations) -> dict[str, Any]:
    return {"n": d.count, "median_s": d.median_s, "p90_s": d.p90_s, "few": d.few}


async def test_todays_and_this_weeks_figures_equal_the_digests(
    uow_factory: UnitOfWorkFactory, clock: FrozenClock
) -> None:
    calendar = BusinessCalendar.from_config(DESK.business_hours)
    async with uow_factory() as uow:
        await seed_demo(
            uow,
            until=NOW,
            weeks=3,
            due_times=lambda case: sla.start_clock(case, DESK.sla, calendar, case.created_at),
        )
        await uow.commit()
    async with uow_factory() as uow:
        shown = await snapshot(uow, DESK, NOW)
        for name, period in (("today", "day"), ("week", "week")):
            digest = await build_digest(
                uow, period, NOW, DESK.digest_timezone, sla=CaseSlaClock.of(DESK), complete=False
            )
            m, figures = digest.metrics, shown["periods"][name]
            assert figures["label"] == digest.window.label
            assert (figures["opened"], figures["resolved"]) == (m.opened, m.resolved)
            assert f"Cases: {m.opened} opened" in digest.text  # what the manager reads in chat
            assert figures["deflection"] == {
                **m.deflection.as_dict(),
                "shown": m.deflection.shown,
                "rate": m.deflection.rate,
            }
            assert figures["first_response"] == _durations(m.first_response)
            assert figures["resolution"] == _durations(m.resolution)
            assert figures["csat"]["average"] == m.csat_average
            assert figures["csat"]["n"] == m.csat_count
            assert figures["csat"]["response_rate"] == m.csat_response_rate
            assert m.opened > 0 and m.deflection.shown > 0  # the history has something to show
        # the open cases on the dashboard are the digest's "open now"
        week = await build_digest(
            uow, "week", NOW, DESK.digest_timezone, sla=CaseSlaClock.of(DESK), complete=False
        )
        assert len(shown["cases"]) == week.metrics.backlog
        unclaimed = sum(q["unclaimed"] for q in shown["queues"])
        assert unclaimed == week.metrics.backlog_by_status.get("new", 0)


async def test_each_open_case_shows_its_sla_clock_and_when_it_warns(
    migrated_url: str, clock: FrozenClock, tmp_path: Path
) -> None:
    desk = test_desk().model_copy(update={"business_hours": BusinessHours()})  # 9–17, Mon–Fri
    t = await build_transcript(migrated_url, clock, tmp_path, desk=desk)
    try:
        clock.advance(hours=7, minutes=30)  # Monday 16:30: the clock runs over the night
        await t.say("I forgot my password")
        await t.click("Talk to a person")
        async with t.helpdesk.uow() as uow:
            shown = await snapshot(uow, desk, clock.now())
        (case,) = shown["cases"]
        assert (case["number"], case["status"], case["queue"]) == (1, "new", "default")
        assert case["unclaimed_since"] == clock.now().isoformat()
        assert shown["queues"][0] == {
            "queue": "default",
            "unclaimed": 1,
            "oldest_since": clock.now().isoformat(),
        }
        first, resolution = case["clocks"]
        assert [first["target"], resolution["target"]] == ["first_response", "resolution"]
        async with t.helpdesk.sessions() as session:
            row = await session.get_one(Case, 1)
        assert first["due"] == row.first_response_due_at.isoformat()  # the SLA ladder's
        warn_at = datetime.fromisoformat(first["warn_at"])
        assert row.first_response_due_at and warn_at < row.first_response_due_at

        async def warnings() -> int:
            await run_sla_check(job_uow_factory(t.helpdesk), desk)
            async with t.helpdesk.sessions() as session:
                return len(
                    (
                        await session.scalars(
                            select(CaseEvent).where(CaseEvent.kind == SLA_WARNING)
                        )
                    ).all()
                )

        clock.advance(seconds=(warn_at - clock.now()).total_seconds() - 2)
        assert await warnings() == 0  # two seconds before: the SLA check does not warn yet
        clock.advance(seconds=2)
        assert await warnings() == 1  # at warn_at it does
        # waiting on the customer: the clock shows as paused
        await t.agent("claim 1")
        await t.agent("pending 1")
        async with t.helpdesk.uow() as uow:
            (case,) = (await snapshot(uow, desk, clock.now()))["cases"]
        assert case["status"] == "pending" and case["paused_since"] == clock.now().isoformat()
        assert case["holder"] == "Dana" and case["unclaimed_since"] is None
    finally:
        await t.helpdesk.close()


async def test_the_knowledge_gaps_are_this_weeks_top_gaps(
    sessions: async_sessionmaker[AsyncSession], embedder: Any
) -> None:
    asked = {
        "how do I recycle old bulbs": 2,
        "can I send you my dead bulbs for recycling": 1,
        "do you sell gift cards": 1,
        "gift card for my brother? mail me at ada@example.com": 1,
    }
    async with sessions() as s:
        at = datetime(2026, 1, 6, 10, 0, tzinfo=UTC)  # this week (Mon 5 Jan – now)
        for text, times in asked.items():
            for n in range(times):
                s.add(MissedQuestion(conversation=f"fake:dm-{n}", text=text, created_at=at))
        s.add(MissedQuestion(conversation="fake:dm-x", text="old", created_at=at.replace(day=1)))
        await s.commit()
    desk = DESK.model_copy(update={"privacy": PrivacyConfig(mask_agent_view=True)})
    async with UnitOfWork(sessions, FrozenClock(NOW)) as uow:
        shown = await snapshot(uow, desk, NOW, gaps=GapsPanel(embedder))
        expected = await top_gaps(
            uow.session,
            since=datetime(2026, 1, 5, tzinfo=UTC),
            until=NOW,
            limit=TOP_GAPS,
            encoder=embedder,
        )
        assert (await snapshot(uow, desk, NOW))["gaps"] is None  # no encoder: no panel
    gaps = shown["gaps"]
    assert [(g["rank"], g["count"], g["previous"]) for g in gaps] == [
        (g.rank, g.count, g.previous) for g in expected
    ]
    assert gaps[0]["count"] == 3 and "recycle" in gaps[0]["examples"][0]  # the largest first
    words = " ".join(e for g in gaps for e in g["examples"])
    assert "ada@example.com" not in words  # the desk masks contacts for agents: here too
