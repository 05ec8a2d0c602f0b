"""Two scheduler processes (two engines, two owners) on one database post each digest exactly
once, on SQLite and PostgreSQL; a digest missed while no scheduler ran is caught up once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.fake import FakeChannel
from bot.bootstrap import start_scheduler
from bot.clock import FrozenClock
from bot.config import DeskConfig
from bot.delivery import OutboxSender
from bot.escalation.sla_clock import CaseSlaClock
from bot.messages import ChannelRef
from bot.reports.scheduler import DeskScheduler, DigestSchedule
from bot.storage.db import create_engine, session_factory
from bot.storage.models import Case, Customer, JobRun
from bot.storage.uow import UnitOfWork
from tests.support.desk import build_transcript, test_desk

DESK = DeskConfig.model_validate(
    {
        "managers_channel": "fake:managers",
        "business_hours": {"timezone": "Europe/Berlin"},
        "digests": {"daily": "09:00", "weekly": "mon 09:00"},
    }
)
BERLIN = ZoneInfo("Europe/Berlin")
# Monday 12 January 2026, 09:00 in Berlin (CET) is 08:00 UTC.
MONDAY_NINE = datetime(2026, 1, 12, 8, 0, tzinfo=UTC)


@pytest.fixture
async def engines(migrated_url: str) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    first, second = create_engine(migrated_url), create_engine(migrated_url)
    try:
        yield first, second
    finally:
        await first.dispose()
        await second.dispose()


def scheduler(engine: AsyncEngine, owner: str, clock: FrozenClock, tmp_path: Path) -> DeskScheduler:
    sessions = session_factory(engine)
    return DeskScheduler(
        desk=DESK,
        uow_factory=lambda: UnitOfWork(sessions, clock),
        clock=clock,
        owner=owner,
        chart_dir=tmp_path / owner,
        sla_clock=CaseSlaClock.of(DESK),
    )


async def delivered(engine: AsyncEngine, clock: FrozenClock) -> list[str]:
    channel = FakeChannel()
    await OutboxSender(
        sessions=session_factory(engine), channels={"fake": channel}, clock=clock
    ).drain()
    return channel.texts("fake:managers")


def is_png(path: Path) -> bool:
    return path.read_bytes()[:4] == b"\x89PNG"


async def seed_a_case(engine: AsyncEngine) -> None:
    async with session_factory(engine)() as s, s.begin():
        s.add(Customer(id=1, display_name="Ada", created_at=datetime(2026, 1, 1, tzinfo=UTC)))
        await s.flush()
        s.add(
            Case(
                customer_id=1,
                conversation="fake:dm-ada",
                subject="Hub offline",
                status="new",
                origin_platform="fake",
                created_at=datetime(2026, 1, 11, 10, 0, tzinfo=UTC),  # Sunday
                updated_at=datetime(2026, 1, 11, 10, 0, tzinfo=UTC),
            )
        )


async def test_two_schedulers_post_each_digest_once(
    engines: tuple[AsyncEngine, AsyncEngine], tmp_path: Path
) -> None:
    await seed_a_case(engines[0])
    clock = FrozenClock(MONDAY_NINE)
    a = scheduler(engines[0], "host-a", clock, tmp_path)
    b = scheduler(engines[1], "host-b", clock, tmp_path)

    results = await asyncio.gather(
        a.run_digest("day"), b.run_digest("day"), a.run_digest("week"), b.run_digest("week")
    )
    posted = [r for r in results if r is not None]
    assert sorted(d.window.key for d in posted) == ["2026-01-11", "2026-W02"]

    texts = await delivered(engines[0], clock)
    assert len(texts) == 2
    assert any(t.startswith("Daily digest — Sun 11 Jan 2026 (CET)") for t in texts)
    assert any(t.startswith("Weekly digest — week 02, 05 Jan – 11 Jan 2026") for t in texts)
    daily = next(t for t in texts if t.startswith("Daily"))
    assert "Cases: 1 opened (▲1 vs 0 the day before) · 0 resolved" in daily
    assert "Open at the end: 1 (new 1; normal 1)" in daily

    # a minute later both fire again (say, after a restart): nothing new is posted
    clock.advance(minutes=1)
    again = await asyncio.gather(a.catch_up(), b.catch_up())
    assert again == [[], []]
    assert await delivered(engines[0], clock) == []
    async with session_factory(engines[1])() as s:
        runs = list(await s.scalars(select(JobRun).order_by(JobRun.job)))
    assert [(r.job, r.period) for r in runs] == [
        ("digest:day", "2026-01-11"),
        ("digest:week", "2026-W02"),
    ]
    assert {r.owner for r in runs} <= {"host-a", "host-b"}
    assert all(r.finished_at == MONDAY_NINE for r in runs)
    for run in runs:
        assert is_png(Path(run.result["chart"]))
        assert run.result["channels"] == ["fake:managers"]


async def test_a_digest_missed_while_down_is_caught_up_once(
    engines: tuple[AsyncEngine, AsyncEngine], tmp_path: Path
) -> None:
    # Down from Tuesday 08:00 to Tuesday 15:00 Berlin time: the 09:00 daily digest was missed.
    clock = FrozenClock(datetime(2026, 1, 13, 14, 0, tzinfo=UTC))
    a = scheduler(engines[0], "host-a", clock, tmp_path)
    b = scheduler(engines[1], "host-b", clock, tmp_path)
    first = await a.catch_up()
    assert [(d.window.period, d.window.key) for d in first] == [
        ("day", "2026-01-12"),
        ("week", "2026-W02"),
    ]
    assert await b.catch_up() == []
    texts = await delivered(engines[0], clock)
    assert [t.splitlines()[0] for t in texts] == [
        "Daily digest — Mon 12 Jan 2026 (CET)",
        "Weekly digest — week 02, 05 Jan – 11 Jan 2026 (CET)",
    ]


def test_schedules_fire_at_local_time_and_cover_the_period_before() -> None:
    daily = DigestSchedule.parse("day", "09:00")
    weekly = DigestSchedule.parse("week", "mon 09:00")
    before_nine = datetime(2026, 1, 14, 7, 59, tzinfo=UTC)  # Wednesday 08:59 in Berlin
    assert daily.last_fire(before_nine, "Europe/Berlin").isoformat() == (
        "2026-01-13T09:00:00+01:00"
    )
    assert weekly.last_fire(before_nine, "Europe/Berlin").isoformat() == (
        "2026-01-12T09:00:00+01:00"
    )
    # After the clocks go forward, 09:00 local is 07:00 UTC.
    summer = datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    assert daily.last_fire(summer, "Europe/Berlin").isoformat() == "2026-03-30T09:00:00+02:00"


async def test_the_scheduler_process_catches_up_then_plans_at_nine_local(
    migrated_url: str, tmp_path: Path
) -> None:
    clock = FrozenClock(MONDAY_NINE + timedelta(hours=2))
    desk = test_desk().model_copy(
        update={
            "managers_channel": DESK.managers_channel,
            "business_hours": DESK.business_hours,
            "digests": DESK.digests,
        }
    )
    t = await build_transcript(migrated_url, clock, tmp_path, desk=desk)
    try:
        await t.say("I need a human")
        await t.say("my hub is dead")
        t.agents_saw()
        clock.advance(hours=1)
        running = await start_scheduler(t.helpdesk)
        try:
            planned = running.next_runs()
            await running.sla_check()  # what the interval job runs every minute
        finally:
            running.shutdown()
        await t.helpdesk.sender.drain()
        posted = t.new_for(ChannelRef("fake", "managers"))
        assert t.agents_saw() == [
            "#1 is still unclaimed after 1 h 00 min: my hub is dead — 'claim 1'."
        ]
    finally:
        await t.helpdesk.close()
    assert [text.splitlines()[0] for text in posted] == [
        "Daily digest — Sun 11 Jan 2026 (CET)",
        "Weekly digest — week 02, 05 Jan – 11 Jan 2026 (CET)",
    ]
    assert is_png(tmp_path / "digests" / "digest-day-2026-01-11.png")
    assert set(planned) == {"digest:day", "digest:week", "sla-check"}
    day = planned["digest:day"].astimezone(BERLIN)
    week = planned["digest:week"].astimezone(BERLIN)
    assert (day.hour, day.minute) == (9, 0)
    assert (week.weekday(), week.hour) == (0, 9)


async def test_the_terminal_chat_runs_the_sla_check_at_once_and_posts_no_digests(
    migrated_url: str, tmp_path: Path
) -> None:
    """``helpdesk chat`` starts the schedule this way: the ladder runs as in the scheduler
    process (its first pass at once, so a breach is not left waiting for a minute), with no
    digests from a terminal."""
    clock = FrozenClock(MONDAY_NINE + timedelta(hours=2))
    desk = test_desk().model_copy(
        update={
            "managers_channel": DESK.managers_channel,
            "business_hours": DESK.business_hours,
            "digests": DESK.digests,
        }
    )
    t = await build_transcript(migrated_url, clock, tmp_path, desk=desk)
    try:
        await t.say("I need a human")
        await t.say("my hub is dead")
        t.agents_saw()
        clock.advance(hours=1)
        running = await start_scheduler(t.helpdesk, digests=False)
        try:
            planned = running.next_runs()
        finally:
            running.shutdown()
        await t.helpdesk.sender.drain()
        assert t.agents_saw() == [
            "#1 is still unclaimed after 1 h 00 min: my hub is dead — 'claim 1'."
        ]
        assert t.new_for(ChannelRef("fake", "managers")) == []
    finally:
        await t.helpdesk.close()
    assert set(planned) == {"sla-check"}
    assert not (tmp_path / "digests").exists()
