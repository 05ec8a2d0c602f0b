"""The retention policy on a fake clock: raw payloads go after ``raw_payloads_days``, a closed
case's texts after ``closed_case_transcripts_months``, feedback questions after
``feedback_queries_days`` — through the scheduler's job, on SQLite and PostgreSQL. Newer data
and the counts stay."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import job_uow_factory
from bot.cases.retention import months_before, run_retention
from bot.clock import FrozenClock
from bot.config import DeskConfig, RetentionConfig, load_desk_config
from bot.dialogs.upkeep import DeskUpkeep
from bot.errors import ConfigError
from bot.escalation.sla_clock import CaseSlaClock
from bot.reports.scheduler import DeskScheduler
from bot.storage.models import Case, InboxMessage, OutboxMessage
from tests.support.database_search import find_anywhere
from tests.support.desk import Transcript, build_transcript, test_desk

POLICY = RetentionConfig(
    raw_payloads_days=30, closed_case_transcripts_months=2, feedback_queries_days=90
)


@pytest.fixture
async def t(migrated_url: str, clock: FrozenClock, tmp_path: Path) -> AsyncIterator[Transcript]:
    desk = test_desk().model_copy(update={"retention": POLICY})
    transcript = await build_transcript(migrated_url, clock, tmp_path, desk=desk)
    yield transcript
    await transcript.helpdesk.close()


def scheduler(t: Transcript, tmp_path: Path) -> DeskScheduler:
    uow_factory = job_uow_factory(t.helpdesk)
    return DeskScheduler(
        desk=t.helpdesk.desk,
        uow_factory=uow_factory,
        clock=t.helpdesk.clock,
        owner="test",
        chart_dir=tmp_path,
        sla_clock=CaseSlaClock.of(t.helpdesk.desk),
        retention=lambda: run_retention(uow_factory, t.helpdesk.desk.retention),
    )


async def close_resolved(t: Transcript) -> None:
    upkeep = DeskUpkeep(desk=t.helpdesk.desk)
    async with job_uow_factory(t.helpdesk)() as uow:
        await upkeep.close_resolved_cases(uow, uow.clock.now(), upkeep.reopen_window)
        await uow.commit()


async def test_old_payloads_then_old_closed_cases_lose_their_texts(
    t: Transcript, clock: FrozenClock, engine: AsyncEngine, tmp_path: Path
) -> None:
    jobs = scheduler(t, tmp_path)
    async with t.helpdesk.sessions() as s:  # an inbound that failed for good on day 0
        now = clock.now()
        s.add(
            InboxMessage(
                platform="fake",
                event_id="failed-1",
                conversation="fake:dm-other",
                payload={"text": "FAILEDPARCEL"},
                received_at=now,
                next_attempt_at=now,
                status="failed",
                error="ValueError: FAILEDPARCEL",
            )
        )
        await s.commit()
    await t.say("my OLDGIZMO squeaks")  # no answer: kept as a missed question
    await t.say("where is my delivery OLDPARCEL")
    await t.click("Talk to a person")
    await t.agent("claim 1")
    await t.agent("reply 1 OLDREPLY it is on the way")
    await t.agent("resolve 1")
    clock.advance(hours=80)
    await close_resolved(t)  # closed on day 3

    clock.advance(days=31)  # day 34: the raw payloads of days 0-3 are past 30 days
    await t.say("where is my delivery NEWPARCEL")
    await jobs.catch_up()

    async with t.helpdesk.sessions() as s:
        inbox = list(await s.scalars(select(InboxMessage).order_by(InboxMessage.id)))
        outbox = list(await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert all(row.payload == {} for row in inbox[:-1]) and "NEWPARCEL" in str(inbox[-1].payload)
    assert [row.status for row in inbox if row.event_id == "failed-1"] == ["expired"]
    assert await find_anywhere(engine, ["FAILEDPARCEL"]) == []
    assert not any("OLD" in str(row.payload) for row in outbox)
    assert outbox[-1].payload["text"]  # the answer to today's question is kept
    # the closed case keeps its texts until two months after closing, only there
    kept = await find_anywhere(engine, ["OLDPARCEL", "OLDREPLY", "OLDGIZMO"])
    tables = {"cases", "case_events", "answer_feedback", "missed_questions"}
    assert {hit.split(".")[0] for hit in kept} == tables

    clock.advance(days=40)  # two months and a bit after closing
    await jobs.retention()
    await jobs.retention()  # a second run (another scheduler process) changes nothing more
    kept = await find_anywhere(engine, ["OLDPARCEL", "OLDREPLY", "NEWPARCEL", "OLDGIZMO"])
    # only the questions are left (74 and 40 days old; they are kept 90)
    assert sorted(hit.split(".")[0] for hit in kept) == [
        "answer_feedback",
        "answer_feedback",
        "missed_questions",
    ]
    async with t.helpdesk.sessions() as s:
        case = await s.get_one(Case, 1)
    assert (case.status, case.subject) == ("closed", "[erased]")
    assert case.first_response_at is not None and case.resolved_at is not None

    clock.advance(days=60)
    await jobs.retention()
    assert await find_anywhere(engine, ["OLDPARCEL", "OLDREPLY", "NEWPARCEL", "OLDGIZMO"]) == []


async def test_the_scheduler_runs_the_policy_daily(t: Transcript, tmp_path: Path) -> None:
    jobs = scheduler(t, tmp_path)
    jobs.start()
    try:
        due = jobs.next_runs()["retention"]
    finally:
        jobs.shutdown()
    assert (due.hour, due.minute) == (3, 17)


def test_months_are_calendar_months() -> None:
    assert months_before(datetime(2026, 3, 31, 12, tzinfo=UTC), 1) == datetime(
        2026, 2, 28, 12, tzinfo=UTC
    )
    assert months_before(datetime(2026, 1, 15, tzinfo=UTC), 12) == datetime(2025, 1, 15, tzinfo=UTC)


def test_the_policy_is_validated_with_the_key_named(tmp_path: Path) -> None:
    config = tmp_path / "helpdesk.yml"
    config.write_text("retention: {raw_payloads_days: 0}\n")
    with pytest.raises(ConfigError, match=r"retention\.raw_payloads_days"):
        load_desk_config(config)
    config.write_text("retention: {raw_payload_days: 30}\n")
    with pytest.raises(ConfigError, match=r"retention\.raw_payload_days"):
        load_desk_config(config)
    config.write_text("retention: {raw_payloads_days: 30, closed_case_transcripts_months: 12}\n")
    assert load_desk_config(config).retention.closed_case_transcripts_months == 12
    assert DeskConfig().retention.raw_payloads_days is None  # by default nothing is removed
