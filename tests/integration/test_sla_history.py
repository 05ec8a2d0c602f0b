"""SLA clocks that follow the case, end to end on a fake clock (SQLite and PostgreSQL): a
priority change after a pause, on a reopened case, a resolution while pending, the card after
a priority change, a transfer to a queue with other targets. Around the clock; Monday 5
January 2026 09:00 UTC to start."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.bootstrap import job_uow_factory
from bot.cases import handoff
from bot.clock import FrozenClock
from bot.config import QueueConfig, SlaConfig, SlaTarget
from bot.dialogs.sla_notices import SlaCheckResult, run_sla_check
from bot.escalation.sla_clock import CaseSlaClock
from bot.messages import ChannelRef, OutboundKind
from bot.reports.metrics import Span, collect
from bot.storage.models import Case
from tests.support.desk import Transcript, build_transcript, test_desk

WINDOW = timedelta(hours=72)


def at(hour: int, minute: int = 0, day: int = 5) -> datetime:
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC)


@pytest.fixture
async def t(migrated_url: str, clock: FrozenClock, tmp_path: Path) -> AsyncIterator[Transcript]:
    sla = SlaConfig(
        policies={
            "normal": SlaTarget(first_response_hours=1, resolution_hours=4),
            "high": SlaTarget(first_response_hours=0.5, resolution_hours=2),
        },
        queues={"billing": {"normal": SlaTarget(first_response_hours=8, resolution_hours=48)}},
        unclaimed_reping_minutes=60,
    )
    desk = test_desk().model_copy(
        update={
            "queues": [
                QueueConfig(name="default", channel="fake:agents"),
                QueueConfig(name="billing", channel="fake:billing"),
            ],
            "sla": sla,
        }
    )
    transcript = await build_transcript(migrated_url, clock, tmp_path, desk=desk)
    yield transcript
    await transcript.helpdesk.close()


async def open_case(t: Transcript) -> None:
    await t.say("I need a human")
    assert any("case #1" in m for m in await t.say("my hub is dead"))


async def check(t: Transcript) -> SlaCheckResult:
    result = await run_sla_check(job_uow_factory(t.helpdesk), t.helpdesk.desk)
    await t.helpdesk.sender.drain()
    return result


async def case_1(t: Transcript) -> Case:
    async with t.helpdesk.sessions() as s:
        return await s.get_one(Case, 1)


async def test_raising_the_priority_after_a_pause_counts_only_the_time_with_us(
    t: Transcript, clock: FrozenClock
) -> None:
    """Item 10: half an hour with us, a day waiting on the customer, then raised to high."""
    await open_case(t)
    clock.advance(minutes=10)
    await t.agent("reply 1 Which firmware is it on?")
    clock.advance(minutes=20)  # 09:30: 30 min of the resolution target spent
    await t.agent("pending 1")
    clock.advance(hours=24)
    await t.say("firmware 2.1")  # Tuesday 09:30: the clock runs again
    await t.agent("priority 1 high")
    case = await case_1(t)
    assert case.resolution_due_at == at(11, day=6)  # the 1 h 30 min left of high's 2 h
    assert (await check(t)).breaches == 0


async def test_a_priority_change_keeps_a_reopened_cases_fresh_target(
    t: Transcript, clock: FrozenClock
) -> None:
    """Item 11: the resolution target counts from the reopen, also under the new priority."""
    await open_case(t)
    await t.agent("reply 1 Try a restart")
    await t.agent("resolve 1")
    clock.advance(hours=6)  # 15:00
    async with job_uow_factory(t.helpdesk)() as uow:
        await handoff.reopen_case(uow, 1, "customer", "Ana", WINDOW)
        await uow.commit()
    assert (await case_1(t)).resolution_due_at == at(19)  # normal: 4 h from the reopen
    await t.agent("priority 1 high")
    assert (await case_1(t)).resolution_due_at == at(17)  # high: 2 h from the reopen
    assert await check(t) == SlaCheckResult()


async def test_a_case_resolved_while_pending_does_not_resume_a_stale_pause_on_reopen(
    t: Transcript, clock: FrozenClock
) -> None:
    """Item 12: the wait ends with the resolution; the reopen gives 4 h from the reopen, not
    4 h plus the day it sat resolved."""
    await open_case(t)
    await t.agent("reply 1 Please check the cable")
    clock.advance(minutes=30)
    await t.agent("pending 1")
    clock.advance(minutes=30)
    await t.agent("resolve 1")  # 10:00, still pending on the customer
    assert (await case_1(t)).sla_paused_at is None
    clock.advance(hours=23)  # Tuesday 09:00
    async with job_uow_factory(t.helpdesk)() as uow:
        await handoff.reopen_case(uow, 1, "customer", "Ana", WINDOW)
        await uow.commit()
    case = await case_1(t)
    assert case.sla_paused_at is None
    assert case.resolution_due_at == at(13, day=6)


async def test_the_card_shows_the_due_time_of_the_new_priority(
    t: Transcript, clock: FrozenClock
) -> None:
    """Item 13: the card is redrawn with the due times the priority change set."""
    await open_case(t)
    clock.advance(minutes=5)
    await t.agent("priority 1 high")
    sent = t.sent_to(ChannelRef.parse("fake:agents"))
    edits = [o.text for o in sent if o.kind == OutboundKind.EDIT]
    assert "First response due: 2026-01-05 09:30 UTC" in edits[-1]


async def test_a_transfer_takes_the_new_queues_targets_and_restarts_the_unclaimed_pings(
    t: Transcript, clock: FrozenClock
) -> None:
    """Item 15: billing's targets from the opening; pings count from the transfer."""
    await open_case(t)
    await t.agent("claim 1")
    await t.agent("reply 1 Let me look")
    clock.advance(hours=27)  # Tuesday 12:00: default's 4 h resolution target long gone …
    async with job_uow_factory(t.helpdesk)() as uow:
        await handoff.transfer_to_queue(uow, 1, "billing", "fake:dana", "Dana")
        await uow.commit()
    case = await case_1(t)
    assert case.resolution_due_at == at(9, day=7)  # … billing's 48 h from the opening
    assert await check(t) == SlaCheckResult()  # no breach, and no "unclaimed after 27 h"
    clock.advance(minutes=60)
    assert (await check(t)).pings == 1
    assert any("still unclaimed after 1 h 00 min" in m for m in t.agents_saw("fake:billing"))


async def test_a_breach_already_announced_is_not_announced_again_after_a_recompute(
    t: Transcript, clock: FrozenClock
) -> None:
    await open_case(t)
    clock.advance(hours=1, minutes=1)
    assert (await check(t)).breaches == 1
    await t.agent("note 1 looking")  # a change that recomputes the clock
    assert (await check(t)).breaches == 0


async def test_a_stale_case_is_still_closed_and_its_pause_ends_with_it(
    t: Transcript, clock: FrozenClock
) -> None:
    await open_case(t)
    await t.agent("reply 1 Is the light blinking?")
    await t.agent("pending 1")
    clock.advance(hours=48)
    await check(t)
    clock.advance(hours=72)
    assert (await check(t)).closed == 1
    case = await case_1(t)
    assert case.status == "closed" and case.sla_paused_at is None
    assert handoff.can_reopen(case, clock.now(), WINDOW)


async def test_close_for_silence_then_reopen_clears_the_closed_state(
    t: Transcript, clock: FrozenClock
) -> None:
    await open_case(t)
    async with job_uow_factory(t.helpdesk)() as uow:
        await handoff.close_for_silence(uow, 1)
        await uow.commit()
    clock.advance(hours=10)
    async with job_uow_factory(t.helpdesk)() as uow:
        case = await handoff.reopen_case(uow, 1, "customer", "Ana", WINDOW)
        await uow.commit()
    case = await case_1(t)
    assert (case.status, case.closed_at, case.reopen_count) == ("new", None, 1)
    assert case.resolution_due_at == at(23)  # 4 h from the reopen at 19:00
    assert not handoff.can_reopen(case, clock.now(), WINDOW)  # active again


async def test_an_answer_at_the_due_minute_is_met_for_the_ladder_and_the_digest(
    t: Transcript, clock: FrozenClock
) -> None:
    """Item 15: one rule — done at or before the due instant is met, everywhere."""
    await open_case(t)  # first response due 10:00
    clock.advance(hours=1)
    assert (await check(t)).breaches == 0  # 10:00: not a breach yet (a warning, a ping)
    await t.agent("reply 1 Here I am")  # answered at 10:00 exactly
    clock.advance(minutes=1)
    assert await check(t) == SlaCheckResult()
    async with job_uow_factory(t.helpdesk)() as uow:
        span = Span(at(0), at(0, day=6), at(0) - timedelta(days=6), "UTC")
        figures = await collect(uow, span, CaseSlaClock.of(t.helpdesk.desk))
    target = figures.first_response_sla
    assert (target.met, target.breached, target.running) == (1, 0, 0)
