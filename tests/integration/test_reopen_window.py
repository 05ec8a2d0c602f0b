"""The one reopen rule of the case layer (SQLite and PostgreSQL, fake clock): a resolved case and
a case closed because the customer went quiet both reopen for ``reopen_window_hours`` — 72 h by
default, whatever the dialog's idle timeout (``stale_after_hours``, 24 h) — and no longer; a case
an agent closed, or one closed at the end of its window, stays closed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.bootstrap import job_uow_factory
from bot.cases import handoff, upkeep
from bot.cases import service as cases
from bot.clock import FrozenClock
from bot.errors import UserFacingError
from bot.storage.models import Case
from tests.support.desk import Transcript, build_transcript, test_desk

DESK = test_desk()
WINDOW = timedelta(hours=DESK.reopen_window_hours)


@pytest.fixture
async def t(migrated_url: str, clock: FrozenClock, tmp_path: Path) -> AsyncIterator[Transcript]:
    transcript = await build_transcript(migrated_url, clock, tmp_path, desk=DESK)
    await transcript.say("I need a human")
    await transcript.say("my hub is dead")  # case #1
    yield transcript
    await transcript.helpdesk.close()


async def case_1(t: Transcript) -> Case:
    async with t.helpdesk.sessions() as s:
        return await s.get_one(Case, 1)


async def resolve(t: Transcript) -> None:
    async with job_uow_factory(t.helpdesk)() as uow:
        await cases.resolve_case(uow, 1, "fake:dana", "Dana")
        await uow.commit()


async def reopenable(t: Transcript) -> bool:
    async with job_uow_factory(t.helpdesk)() as uow:
        found = await handoff.reopenable_case_for(uow, str(t.customer), uow.clock.now(), WINDOW)
    return found is not None and found.id == 1


def test_the_documented_window_is_longer_than_the_dialogs_idle_timeout() -> None:
    assert DESK.reopen_window_hours == 72 > DESK.stale_after_hours


async def test_a_resolved_case_reopens_for_the_whole_window_not_the_idle_timeout(
    t: Transcript, clock: FrozenClock
) -> None:
    await resolve(t)
    clock.advance(hours=48)  # past stale_after_hours
    assert await reopenable(t)
    clock.advance(hours=24)  # exactly 72 h: still inside
    assert await reopenable(t)
    clock.advance(minutes=1)
    assert not await reopenable(t)
    async with job_uow_factory(t.helpdesk)() as uow:
        with pytest.raises(UserFacingError):
            await handoff.reopen_case(uow, 1, "customer", "Ada", WINDOW)


async def test_a_case_closed_for_silence_reopens_when_the_customer_writes(
    t: Transcript, clock: FrozenClock
) -> None:
    async with job_uow_factory(t.helpdesk)() as uow:
        await handoff.close_for_silence(uow, 1)
        await uow.commit()
    clock.advance(hours=50)
    assert await reopenable(t)
    async with job_uow_factory(t.helpdesk)() as uow:
        await handoff.reopen_case(uow, 1, "customer", "Ada", WINDOW)
        await uow.commit()
    case = await case_1(t)
    assert (case.status, case.reopen_count, case.closed_at) == ("new", 1, None)


async def test_a_case_closed_for_silence_stays_closed_after_the_window(
    t: Transcript, clock: FrozenClock
) -> None:
    async with job_uow_factory(t.helpdesk)() as uow:
        await handoff.close_for_silence(uow, 1)
        await uow.commit()
    clock.advance(hours=72, minutes=1)
    assert not await reopenable(t)


async def test_a_case_an_agent_closed_stays_closed(t: Transcript) -> None:
    async with job_uow_factory(t.helpdesk)() as uow:
        await cases.close_case(uow, 1, "fake:dana", "Dana")
        await uow.commit()
    assert not await reopenable(t)


async def test_a_case_closed_at_the_end_of_its_window_stays_closed(
    t: Transcript, clock: FrozenClock
) -> None:
    await resolve(t)
    clock.advance(hours=72)
    async with job_uow_factory(t.helpdesk)() as uow:
        assert await upkeep.close_resolved_cases(uow, uow.clock.now(), WINDOW)
        await uow.commit()
    assert not await reopenable(t)


async def test_the_silence_close_of_the_sla_check_is_reopenable(
    t: Transcript, clock: FrozenClock
) -> None:
    """The ladder's own close (nudge, then close) uses the reopenable close."""
    from bot.dialogs.sla_notices import run_sla_check

    await t.agent("reply 1 Is the light blinking?")
    await t.agent("pending 1")
    sla = t.helpdesk.desk.sla
    clock.advance(hours=sla.nudge_after_hours)
    await run_sla_check(job_uow_factory(t.helpdesk), t.helpdesk.desk)
    clock.advance(hours=sla.auto_close_after_hours)
    assert (await run_sla_check(job_uow_factory(t.helpdesk), t.helpdesk.desk)).closed == 1
    assert (await case_1(t)).status == "closed"
    clock.advance(hours=71)
    assert await reopenable(t)


async def test_a_customer_writing_after_a_silence_close_is_offered_the_case_back(
    t: Transcript, clock: FrozenClock
) -> None:
    """End to end through the dialog: the ladder closes the case for silence, the customer
    writes two days later, is offered the case back, and takes it."""
    from bot.dialogs import replies
    from bot.dialogs.sla_notices import run_sla_check

    await t.agent("reply 1 Is the light blinking?")
    await t.agent("pending 1")
    sla = t.helpdesk.desk.sla
    clock.advance(hours=sla.nudge_after_hours)
    await run_sla_check(job_uow_factory(t.helpdesk), t.helpdesk.desk)
    clock.advance(hours=sla.auto_close_after_hours)
    await run_sla_check(job_uow_factory(t.helpdesk), t.helpdesk.desk)
    assert (await case_1(t)).status == "closed"

    clock.advance(hours=48)  # past the dialog's idle timeout, inside the reopen window
    said = await t.say("the hub light still blinks red")
    assert replies.offer_reopen(1) in said
    assert (await case_1(t)).status == "closed"  # offered, never reopened behind their back
    await t.click("Reopen case #1")
    case = await case_1(t)
    assert (case.status, case.reopen_count) == ("open", 1)  # back with Dana, who held it
