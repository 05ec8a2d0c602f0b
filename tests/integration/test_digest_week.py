"""A scripted week whose every event is known, played through the case services on a frozen
clock (SQLite and PostgreSQL), and every figure of its weekly digest checked against values
worked out by hand below. Then the posted digest is reproduced after later events.

The desk works Mon–Fri 09:00–17:00 in Berlin (CET, UTC+1); targets in business hours: normal
2 h first response / 8 h resolution, high 1 h / 4 h. The week is ISO week 2 of 2026, Monday
5 January to Sunday 11 January, Berlin time; the weekly digest posts Monday 12 January 09:00.

    #1 (last week) opened Fri 2 Jan 16:00. Dana claims Mon 09:30, replies 09:40, resolves 11:00.
       first response 1 h 40 min business (Fri 16–17, Mon 9–9:40), 2 d 17 h 40 min clock;
       resolution 3 h business, 2 d 19 h clock.
    #2 opened Mon 10:00 (conversation y). Eve claims 10:30, replies 11:00 (due 12:00: met), then
       goes quiet and her claim is released automatically at 15:00. Dana claims Tue 09:10 and
       resolves Tue 10:00 — exactly at its due minute (8 business hours): met. Rated 4.
       first response 1 h / 1 h; resolution 8 h business, 24 h clock.
    #3 high, opened Tue 16:00 (conversation z, right after an answer there). Dana claims Wed
       09:30, replies 09:45 — first response due Tue 17:00: breached. Resolved Wed 11:00 (due Wed
       12:00), reopened Thu 10:00 with a fresh 4 h target (Thu 14:00), resolved Thu 15:00: the
       resolution is breached. Rated 2 after the second resolution.
       first response 1 h 45 min business, 17 h 45 min clock; resolutions 3 h / 19 h, 5 h / 5 h.
    #4 opened Wed 14:00. Eve claims 14:10, replies 14:20 (met), sets it pending at 15:00: it
       waits on the customer to the end, 1 h of its 8 spent — not late, Eve holds it.
    #5 opened Thu 00:30 (Wed 23:30 UTC: a Thursday case in Berlin). Nobody answers: first
       response due Thu 11:00, resolution Thu 17:00 — both breached, overdue at the end.
    #6 opened Fri 16:30 asking only for a person. Nobody answers; due Mon 12 Jan: running.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from bot.cases import handoff, service, triage, upkeep
from bot.cli import app
from bot.clock import FrozenClock
from bot.config import DeskConfig
from bot.escalation.sla_clock import CaseSlaClock
from bot.reports.digest import build_digest
from bot.reports.scheduler import DeskScheduler
from bot.storage.models import AnswerFeedback, Customer, JobRun
from bot.storage.uow import UnitOfWorkFactory

BERLIN = ZoneInfo("Europe/Berlin")
DESK = DeskConfig.model_validate(
    {
        "managers_channel": "fake:managers",
        "business_hours": {"timezone": "Europe/Berlin"},
        "sla": {
            "policies": {
                "normal": {"first_response_hours": 2, "resolution_hours": 8},
                "high": {"first_response_hours": 1, "resolution_hours": 4},
            }
        },
        "digests": {"daily": None, "weekly": "mon 09:00"},
    }
)
SLA = CaseSlaClock.of(DESK)
POSTED = datetime(2026, 1, 12, 8, 0, tzinfo=UTC)  # Monday 09:00 in Berlin
DANA, EVE = ("fake:dana", "Dana"), ("fake:eve", "Eve")


def at(day: int, clock_time: str) -> datetime:
    """Berlin time on ``day`` days after Monday 5 January 2026 (negative: the week before)."""
    hours, minutes = (int(part) for part in clock_time.split(":"))
    local = datetime(2026, 1, 5, hours, minutes, tzinfo=BERLIN) + timedelta(days=day)
    return local.astimezone(UTC)


MON, TUE, WED, THU, FRI, SUN = 0, 1, 2, 3, 4, 6


def answer(
    conversation: str,
    shown: datetime,
    helpful: bool | None = None,
    answered: datetime | None = None,
) -> AnswerFeedback:
    return AnswerFeedback(
        conversation=f"fake:{conversation}",
        query=f"question in {conversation}",
        article_slug="an-article",
        helpful=helpful,
        created_at=shown,
        answered_at=answered if helpful is not None else None,
    )


def move(clock: FrozenClock, when: datetime) -> None:
    clock.advance(seconds=(when - clock.now()).total_seconds())


class Week:
    """Plays the script through the services, one unit of work per step."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: FrozenClock) -> None:
        self.uow_factory, self.clock = uow_factory, clock

    async def step(self, when: datetime, action: object, *args: object, **kwargs: object) -> None:
        move(self.clock, when)
        async with self.uow_factory() as uow:
            await action(uow, *args, **kwargs)  # type: ignore[operator]
            await uow.commit()

    async def open(self, when: datetime, conversation: str, subject: str, **kw: object) -> None:
        async def opening(uow: object) -> None:
            await service.open_case(
                uow,  # type: ignore[arg-type]
                customer_id=1,
                customer_author=f"customer:fake:{conversation}",
                customer_name="Ada",
                conversation=f"fake:{conversation}",
                platform="fake",
                subject=subject,
                transcript=[("customer", subject)],
                **kw,  # type: ignore[arg-type]
            )

        await self.step(when, opening)


async def play_the_week(
    sessions: async_sessionmaker[AsyncSession], uow_factory: UnitOfWorkFactory, clock: FrozenClock
) -> None:
    async with sessions() as s, s.begin():
        s.add(Customer(id=1, display_name="Ada", created_at=at(-10, "09:00")))
        s.add_all(
            [
                # last week: undecided at its end; now assumed (x) and escalated (y: case #2)
                answer("x", at(-1, "12:00")),
                answer("y", at(-1, "20:00")),
                # this week
                answer("a", at(MON, "09:00"), True, at(MON, "09:01")),  # confirmed
                answer("b", at(MON, "12:00"), False, at(MON, "12:02")),  # not helpful
                answer("z", at(TUE, "15:50")),  # escalated: case #3 ten minutes later
                answer("c", at(WED, "10:00")),  # assumed: nothing followed in 24 h
                answer("e", at(THU, "10:00")),  # not helpful: said so to the next answer …
                answer("e", at(THU, "10:05"), False, at(THU, "10:06")),  # … this one
                # undecided at the week's end; the verdict comes after it, before the post
                answer("d", at(SUN, "20:00"), True, at(SUN + 1, "08:30")),
            ]
        )
    week = Week(uow_factory, clock)
    window = timedelta(hours=72)
    await week.open(at(-3, "16:00"), "p", "Invoice question", intent="billing")  # #1
    await week.step(at(MON, "09:30"), lambda u: service.claim_case(u, 1, *DANA))
    await week.step(at(MON, "09:40"), lambda u: service.agent_reply(u, 1, *DANA, "Hello"))
    await week.step(at(MON, "11:00"), lambda u: service.resolve_case(u, 1, *DANA))

    await week.open(at(MON, "10:00"), "y", "Parcel late", intent="order_status")  # #2
    await week.step(at(MON, "10:30"), lambda u: service.claim_case(u, 2, *EVE))
    await week.step(at(MON, "11:00"), lambda u: service.agent_reply(u, 2, *EVE, "Checking"))
    await week.step(
        at(MON, "15:00"), lambda u: upkeep.release_stale_claims(u, clock.now(), timedelta(hours=2))
    )
    await week.step(at(TUE, "09:10"), lambda u: service.claim_case(u, 2, *DANA))
    await week.step(at(TUE, "10:00"), lambda u: service.resolve_case(u, 2, *DANA))
    await week.step(at(TUE, "10:05"), lambda u: service.rate_case(u, 2, 4, "customer:fake:y"))

    await week.open(at(TUE, "16:00"), "z", "Charged twice", intent="billing", priority="high")
    await week.step(at(WED, "09:30"), lambda u: service.claim_case(u, 3, *DANA))
    await week.step(at(WED, "09:45"), lambda u: service.agent_reply(u, 3, *DANA, "Refunding"))
    await week.step(at(WED, "11:00"), lambda u: service.resolve_case(u, 3, *DANA))

    await week.open(at(WED, "14:00"), "w", "Parcel missing", intent="order_status")  # #4
    await week.step(at(WED, "14:10"), lambda u: service.claim_case(u, 4, *EVE))
    await week.step(at(WED, "14:20"), lambda u: service.agent_reply(u, 4, *EVE, "Which one?"))
    await week.step(at(WED, "15:00"), lambda u: triage.mark_pending(u, 4, *EVE))

    await week.open(at(THU, "00:30"), "u", "App crashes")  # #5, opened in the night
    await week.step(
        at(THU, "10:00"), lambda u: handoff.reopen_case(u, 3, "customer:fake:z", "Ada", window)
    )
    await week.step(at(THU, "15:00"), lambda u: service.resolve_case(u, 3, *DANA))
    await week.step(at(THU, "15:10"), lambda u: service.rate_case(u, 3, 2, "customer:fake:z"))
    await week.open(at(FRI, "16:30"), "v", "Need a person", intent="human_handoff")  # #6


NIGHT, PERSON = 5, 6  # the cases nobody answered


async def test_every_figure_of_the_scripted_week(
    sessions: async_sessionmaker[AsyncSession], uow_factory: UnitOfWorkFactory, clock: FrozenClock
) -> None:
    await play_the_week(sessions, uow_factory, clock)
    move(clock, POSTED)
    async with uow_factory() as uow:
        digest = await build_digest(uow, "week", POSTED, "Europe/Berlin", sla=SLA)
    m = digest.metrics
    assert (m.start, m.end) == (at(MON, "00:00"), at(SUN + 1, "00:00"))
    assert (m.opened, m.previous_opened, m.resolved, m.previous_resolved) == (5, 1, 4, 0)
    assert (m.reopened, m.resolved_then_reopened) == (1, 1)
    # open at the end: #4 pending (Eve), #5 and #6 new; #5 overdue on both targets
    assert m.backlog_by_status == {"pending": 1, "new": 2}
    assert m.backlog_by_priority == {"normal": 3}
    late = m.late
    assert (late.open, late.overdue, late.never_answered) == (3, 1, 2)
    assert late.oldest_age_s == (at(SUN + 1, "00:00") - at(WED, "14:00")).total_seconds()
    # 7 answers shown = 1 confirmed + 3 not helpful + 1 escalated + 1 assumed + 1 undecided
    d = m.deflection
    assert d.as_dict() == {
        "confirmed": 1,
        "not_helpful": 3,
        "escalated": 1,
        "assumed": 1,
        "undecided": 1,
    }
    assert (d.shown, d.decided, d.rate) == (7, 6, 2 / 6)
    assert m.earlier_undecided.as_dict() == {
        "confirmed": 0,
        "not_helpful": 0,
        "escalated": 1,
        "assumed": 1,
        "undecided": 0,
    }
    # first replies in the week: #1 100 min, #2 60, #3 105, #4 20 (business); clock 2 d 17 h
    # 40 min, 60 min, 17 h 45 min, 20 min
    minute = 60.0
    fr = m.first_response
    assert (fr.count, fr.median_s, fr.p90_s) == (4, 80 * minute, 105 * minute)
    assert (fr.clock_median_s, fr.clock_p90_s) == (562.5 * minute, (65 * 60 + 40) * minute)
    assert fr.few
    # resolutions: #1 3 h / 67 h, #2 8 h / 24 h, #3 3 h / 19 h, #3 again 5 h / 5 h
    hour = 3600.0
    res = m.resolution
    assert (res.count, res.median_s, res.p90_s) == (4, 4 * hour, 8 * hour)
    assert (res.clock_median_s, res.clock_p90_s) == (21.5 * hour, 67 * hour)
    # SLA of the five opened: first response #2 #4 met, #3 #5 breached, #6 running;
    # resolution #2 met, #3 #5 breached, #4 (waiting on the customer) and #6 running
    fr_sla, res_sla = m.first_response_sla, m.resolution_sla
    assert (fr_sla.met, fr_sla.breached, fr_sla.running) == (2, 2, 1)
    assert (res_sla.met, res_sla.breached, res_sla.running) == (1, 2, 2)
    assert m.sla_breaches == 4
    assert m.csat_distribution == {1: 0, 2: 1, 3: 0, 4: 1, 5: 0}
    assert (m.csat_average, m.csat_resolutions, m.csat_rated) == (3.0, 4, 2)
    assert m.top_topics == [("order_status", 2), ("billing", 1)]
    assert m.without_topic == 2
    assert set(m.top_unanswered) == {
        ("question in b", 1),
        ("question in e", 1),
        ("parcel missing", 1),
        ("app crashes", 1),
        ("need a person", 1),
    }
    credit = [(a.agent, a.claimed, a.replied, a.resolved, a.holding) for a in m.agents]
    assert credit == [("Dana", 3, 2, 4, 0), ("Eve", 2, 2, 0, 1)]
    days = [(x.day, x.opened, x.resolved, x.backlog, x.breached) for x in m.days]
    assert days == [
        ("2026-01-05", 1, 1, 1, 0),
        ("2026-01-06", 1, 1, 1, 2),
        ("2026-01-07", 1, 1, 1, 0),
        ("2026-01-08", 1, 1, 2, 2),  # the night case counts on Thursday, as in Berlin
        ("2026-01-09", 1, 0, 3, 0),
        ("2026-01-10", 0, 0, 3, 0),
        ("2026-01-11", 0, 0, 3, 0),
    ]

    assert digest.text.splitlines() == [
        "Weekly digest — week 02, 05 Jan – 11 Jan 2026 (CET)",
        "Cases: 5 opened (▲4 vs 1 the week before) · 4 resolved (▲4 vs 0 the week before) "
        "· 1 reopen",
        "Open at the end: 3 (new 2, pending 1; normal 3) · 1 overdue · 2 never answered · "
        "oldest 4 d 10 h",
        "Deflection: 7 answers shown = 1 confirmed helpful + 3 not helpful + 1 escalated + "
        "1 assumed (no reply, case or complaint within 24 h) + 1 undecided · rate 33% of "
        "6 decided",
        "Undecided in the period before: 2, now 1 escalated, 1 assumed",
        "First response, business hours (clock time): median 1 h 20 min (9 h 23 min) · "
        "p90 1 h 45 min (2 d 18 h) · n = 4, few cases: read with care",
        "Resolution, business hours (clock time): median 4 h 00 min (21 h 30 min) · "
        "p90 8 h 00 min (2 d 19 h) · n = 4, few cases: read with care",
        "SLA of the 5 cases opened: first response 2/4 met (50%), 2 breached, 1 running · "
        "resolution 1/3 met (33%), 2 breached, 2 running · 4 breaches",
        "CSAT: 3.00 from 2 ratings (1★ 0 · 2★ 1 · 3★ 0 · 4★ 1 · 5★ 0) · 2 of 4 resolutions "
        "rated (50%)",
        "Reopened: 1 of 4 resolutions reopened by the end",
        "Top topics: order_status 2 · billing 1 (2 without a topic)",
        digest.text.splitlines()[11],  # top unanswered: five ties, order checked above
        "Agents: Dana 3 claimed, 2 replies, 4 resolved, 0 held · "
        "Eve 2 claimed, 2 replies, 0 resolved, 1 held",
        "How each figure is counted: helpdesk digest --explain",
    ]


async def test_a_posted_digest_reproduces_after_later_events(
    sessions: async_sessionmaker[AsyncSession],
    uow_factory: UnitOfWorkFactory,
    clock: FrozenClock,
    tmp_path: Path,
    migrated_url: str,
    monkeypatch: pytest.MonkeyPatch,
    embedder: Any,
) -> None:
    await play_the_week(sessions, uow_factory, clock)
    move(clock, POSTED)
    scheduler = DeskScheduler(
        desk=DESK,
        uow_factory=uow_factory,
        clock=clock,
        owner="test",
        chart_dir=tmp_path,
        sla_clock=SLA,
        gaps_encoder=embedder,
    )
    posted = await scheduler.run_digest("week")
    assert posted is not None
    assert posted.gaps and "Top knowledge gaps (count, then the week before):" in posted.text

    # Later: #3 reopened again and its rating changed, #4 resolved and rated, #6 answered, the
    # night case closed by an agent; all after the week, so none of it is the week's business.
    week = Week(uow_factory, clock)
    await week.step(
        at(SUN + 1, "10:00"),
        lambda u: handoff.reopen_case(u, 3, "customer:fake:z", "Ada", timedelta(hours=96)),
    )
    await week.step(at(SUN + 1, "10:05"), lambda u: service.rate_case(u, 3, 5, "customer:fake:z"))
    await week.step(at(SUN + 1, "11:00"), lambda u: service.resolve_case(u, 4, *EVE))
    await week.step(at(SUN + 1, "11:30"), lambda u: service.rate_case(u, 4, 1, "customer:fake:w"))
    await week.step(at(SUN + 1, "12:00"), lambda u: service.agent_reply(u, PERSON, *EVE, "Hi"))
    await week.step(at(SUN + 1, "12:30"), lambda u: service.close_case(u, NIGHT, *DANA))

    async with uow_factory() as uow:
        stored = await uow.session.scalar(select(JobRun).where(JobRun.job == "digest:week"))
    assert stored is not None and stored.period == "2026-W02"
    assert stored.result["as_of"] == POSTED.isoformat()
    # ``helpdesk digest --now --period week --as-of <when it was posted> --json``, days later
    config = tmp_path / "helpdesk.yml"
    config.write_text(yaml.safe_dump(DESK.model_dump(mode="json", exclude_none=True)))
    monkeypatch.setenv("DATABASE_URL", migrated_url)
    monkeypatch.setenv("HELPDESK_CONFIG", str(config))
    monkeypatch.setenv("HELPDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HELPDESK_ENCODER", "torch")  # no ONNX export made for one test
    argv = ["digest", "--now", "--period", "week", "--as-of", stored.result["as_of"], "--json"]
    result = await asyncio.to_thread(CliRunner().invoke, app, argv)  # it runs its own loop
    assert result.exit_code == 0, result.output
    rerun = json.loads(result.output)
    assert rerun["key"] == "2026-W02"
    assert rerun["metrics"] == stored.result["metrics"] == posted.metrics.to_dict()
    assert rerun["text"] == stored.result["text"] == posted.text


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(at(-10, "09:00"))
