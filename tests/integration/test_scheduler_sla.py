"""The SLA check job end to end (engine, outbox, fake channels; SQLite and PostgreSQL): warnings
and breaches sent once and audited, the pause while pending, re-pings for unclaimed cases,
nudges and closing of stale cases, and the out-of-hours line for customers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.bootstrap import job_uow_factory
from bot.clock import FrozenClock
from bot.config import DeskConfig, SlaConfig, SlaTarget
from bot.dialogs import replies
from bot.dialogs.sla_notices import SlaCheckResult, run_sla_check
from bot.messages import ChannelRef
from bot.storage.models import Case, CaseEvent
from tests.support.desk import Transcript, build_transcript, test_desk

MANAGERS = ChannelRef("fake", "managers")


def sla_desk(**sla: object) -> DeskConfig:
    values: dict[str, object] = {
        "policies": {"normal": SlaTarget(first_response_hours=1, resolution_hours=4)},
        "unclaimed_reping_minutes": 600,
    }
    values.update(sla)
    return test_desk().model_copy(
        update={"managers_channel": "fake:managers", "sla": SlaConfig.model_validate(values)}
    )


@pytest.fixture
async def t(migrated_url: str, clock: FrozenClock, tmp_path: Path) -> AsyncIterator[Transcript]:
    transcript = await build_transcript(migrated_url, clock, tmp_path, desk=sla_desk())
    yield transcript
    await transcript.helpdesk.close()


async def check(t: Transcript) -> SlaCheckResult:
    result = await run_sla_check(job_uow_factory(t.helpdesk), t.helpdesk.desk)
    await t.helpdesk.sender.drain()
    return result


async def open_case(t: Transcript) -> None:
    await t.say("I need a human")
    (opened,) = [m for m in await t.say("my hub is dead") if "case #1" in m]
    assert opened
    t.agents_saw()


def at(hour: int, minute: int = 0, day: int = 5) -> datetime:
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC)


async def test_warning_then_breach_each_sent_once_and_audited(
    t: Transcript, clock: FrozenClock
) -> None:
    await open_case(t)  # Monday 09:00 UTC: first response due 10:00
    clock.advance(minutes=44)
    assert await check(t) == SlaCheckResult()
    clock.advance(minutes=1)  # 15 minutes left of 60: the 75 % mark
    assert (await check(t)).warnings == 1
    assert t.agents_saw() == [
        "⏰ #1: the first response target is due Mon 10:00 UTC — the queue (unclaimed)."
    ]
    clock.advance(minutes=5)
    assert await check(t) == SlaCheckResult()
    assert t.agents_saw() == []

    clock.advance(minutes=10)  # 10:00: an answer now would still meet the target
    assert await check(t) == SlaCheckResult()
    clock.advance(minutes=1)  # 10:01: past it
    assert (await check(t)).breaches == 1
    assert t.agents_saw() == [
        "🚨 #1 breached its first response target (due Mon 10:00 UTC) — the queue (unclaimed)."
    ]
    (to_managers,) = t.new_for(MANAGERS)
    assert to_managers.startswith("🚨 SLA breach: #1 (normal) my hub is dead — first response")
    clock.advance(minutes=1)
    assert await check(t) == SlaCheckResult()
    assert t.new_for(MANAGERS) == [] and t.agents_saw() == []

    async with t.helpdesk.sessions() as s:
        audit = list(
            await s.scalars(
                select(CaseEvent).where(CaseEvent.kind.like("sla_%")).order_by(CaseEvent.id)
            )
        )
    assert [(e.kind, e.data["target"], e.created_at) for e in audit] == [
        ("sla_warning", "first_response", at(9, 45)),
        ("sla_breach", "first_response", at(10, 1)),
    ]


async def test_a_reply_in_time_means_no_first_response_alerts(
    t: Transcript, clock: FrozenClock
) -> None:
    await open_case(t)
    clock.advance(minutes=20)
    await t.agent("reply 1 Looking into it")
    t.agents_saw()
    clock.advance(hours=2)
    assert await check(t) == SlaCheckResult()
    assert t.agents_saw() == [] and t.new_for(MANAGERS) == []


async def test_pending_on_the_customer_stops_the_clock(t: Transcript, clock: FrozenClock) -> None:
    await open_case(t)  # resolution due 13:00
    clock.advance(minutes=10)
    await t.agent("reply 1 Can you send the hub's serial number?")
    clock.advance(minutes=50)  # 10:00: three hours of the resolution target left
    await t.agent("pending 1")  # waiting on the customer
    clock.advance(hours=5)  # 15:00: past the original due time, but the clock is stopped
    assert await check(t) == SlaCheckResult()
    await t.say("the serial is AB-12")  # the customer answers: the clock runs again
    async with t.helpdesk.sessions() as s:
        case = await s.get_one(Case, 1)
    assert case.status == "open" and case.sla_paused_at is None
    assert case.resolution_due_at == at(18)  # 15:00 + the three hours that were left
    assert case.sla_paused_seconds == 5 * 3600
    t.agents_saw()

    clock.advance(hours=1, minutes=59)
    assert await check(t) == SlaCheckResult()  # 16:59: more than a quarter of four hours left
    clock.advance(minutes=1)
    assert (await check(t)).warnings == 1
    assert any("resolution target is due Mon 18:00 UTC — Dana" in m for m in t.agents_saw())
    clock.advance(hours=1, minutes=1)
    assert (await check(t)).breaches == 1
    (to_managers,) = t.new_for(MANAGERS)
    assert "resolution was due Mon 05 Jan 18:00 UTC; Dana." in to_managers


async def test_unclaimed_cases_are_repinged_until_someone_claims(
    migrated_url: str, clock: FrozenClock, tmp_path: Path
) -> None:
    desk = sla_desk(
        policies={"normal": SlaTarget(first_response_hours=8, resolution_hours=24)},
        unclaimed_reping_minutes=30,
    )
    t = await build_transcript(migrated_url, clock, tmp_path, desk=desk)
    try:
        await open_case(t)
        clock.advance(minutes=29)
        assert (await check(t)).pings == 0
        clock.advance(minutes=1)
        assert (await check(t)).pings == 1
        assert t.agents_saw() == ["#1 is still unclaimed after 30 min: my hub is dead — 'claim 1'."]
        clock.advance(minutes=10)
        assert (await check(t)).pings == 0
        clock.advance(minutes=50)
        assert (await check(t)).pings == 1
        assert t.agents_saw() == [
            "#1 is still unclaimed after 1 h 30 min: my hub is dead — 'claim 1'."
        ]
        await t.agent("claim 1")
        clock.advance(hours=2)
        assert (await check(t)).pings == 0
    finally:
        await t.helpdesk.close()


async def test_a_quiet_pending_case_is_nudged_then_closed(
    t: Transcript, clock: FrozenClock
) -> None:
    await open_case(t)
    await t.agent("reply 1 Is the light on the hub blinking?")
    await t.agent("pending 1")  # waiting on the customer
    t.new_for(t.customer)
    t.agents_saw()

    clock.advance(hours=47)
    assert (await check(t)).nudged == 0
    clock.advance(hours=1)
    assert (await check(t)).nudged == 1
    assert t.new_for(t.customer) == [replies.nudge_customer(1)]
    assert replies.nudged_for_agents(1) in t.agents_saw()

    clock.advance(hours=71)
    assert await check(t) == SlaCheckResult()
    clock.advance(hours=1)
    assert (await check(t)).closed == 1
    assert t.new_for(t.customer) == [replies.stale_closed_for_customer(1)]
    assert replies.stale_closed_for_agents(1) in t.agents_saw()
    async with t.helpdesk.sessions() as s:
        assert (await s.get_one(Case, 1)).status == "closed"
    assert await check(t) == SlaCheckResult()


async def test_a_case_opened_out_of_hours_tells_the_customer_when_we_are_back(
    migrated_url: str, tmp_path: Path
) -> None:
    clock = FrozenClock(datetime(2026, 1, 10, 14, 0, tzinfo=UTC))  # a Saturday
    desk = sla_desk().model_copy(
        update={
            "business_hours": DeskConfig.model_validate(
                {"business_hours": {"timezone": "Europe/Berlin"}}
            ).business_hours
        }
    )
    t = await build_transcript(migrated_url, clock, tmp_path, desk=desk)
    try:
        await t.say("I need a human")
        said = await t.say("my hub is dead")
        assert said[-1] == (
            "Our team is away right now and back Monday 12 January at 09:00 (CET); "
            "we'll answer then."
        )
        async with t.helpdesk.sessions() as s:
            case = await s.get_one(Case, 1)
        # One business hour for the first response: Monday 10:00 in Berlin.
        assert case.first_response_due_at == datetime(2026, 1, 12, 9, 0, tzinfo=UTC)
    finally:
        await t.helpdesk.close()


async def test_a_reopened_case_gets_a_fresh_resolution_target(
    t: Transcript, clock: FrozenClock
) -> None:
    await open_case(t)
    await t.agent("reply 1 Try turning it off and on again")
    clock.advance(hours=1)
    await t.agent("resolve 1")
    clock.advance(hours=3)  # 13:00: the original resolution target would be due now
    await t.say("still broken, sorry")
    await t.click("Reopen case #1")
    async with t.helpdesk.sessions() as s:
        case = await s.get_one(Case, 1)
    assert (case.status, case.reopen_count) == ("open", 1)
    assert case.resolution_due_at == at(17)
    t.agents_saw()
    assert await check(t) == SlaCheckResult()  # no breach of the old target
    clock.advance(hours=4, minutes=1)
    assert (await check(t)).breaches == 1
    assert any("breached its resolution target (due Mon 17:00 UTC)" in m for m in t.agents_saw())
