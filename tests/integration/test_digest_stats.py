"""``stats`` for managers, in the managers' channel or an agent channel (SQLite and
PostgreSQL): the figures of the period so far; others are refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from bot.config import RoleMembers, Roles
from bot.dialogs import replies
from tests.support.desk import Transcript, as_sent, build_transcript, test_desk


@pytest.fixture
async def t(migrated_url: str, clock: FrozenClock, tmp_path: Path) -> AsyncIterator[Transcript]:
    desk = test_desk().model_copy(
        update={
            "managers_channel": "fake:managers",
            "roles": Roles(agents=RoleMembers(fake=["dana"]), managers=RoleMembers(fake=["mia"])),
        }
    )
    transcript = await build_transcript(migrated_url, clock, tmp_path, desk=desk)
    yield transcript
    await transcript.helpdesk.close()


async def test_a_manager_asks_for_todays_stats(t: Transcript, clock: FrozenClock) -> None:
    await t.say("I need a human")
    await t.say("my hub is dead")
    clock.advance(minutes=30)
    await t.agent("reply 1 On it!")
    clock.advance(hours=2)
    await t.agent("resolve 1")
    await t.click("5 ☺")
    clock.advance(minutes=5)

    (answer,) = await t.agent("stats today", user="mia", name="Mia", channel="fake:managers")
    lines = answer.splitlines()
    assert lines[0] == "Today so far, as of 11:35 (UTC) — Mon 05 Jan 2026"
    assert "digest" not in lines[0].lower()  # not to be mistaken for a finished period
    assert lines[1].startswith("Cases: 1 opened (▲1 vs 0 the day before) · 1 resolved")
    assert "Open now: none" in lines
    assert (
        "First response, business hours (clock time): median 30 min (30 min) · "
        "p90 30 min (30 min) · n = 1, few cases: read with care"
    ) in lines
    assert (
        "CSAT: 5.00 from 1 rating (1★ 0 · 2★ 0 · 3★ 0 · 4★ 0 · 5★ 1) · "
        "1 of 1 resolution rated (100%)"
    ) in lines
    assert "Reopened: 0 of 1 resolution reopened by now" in lines
    assert "Agents: Dana 1 claimed, 1 reply, 1 resolved, 0 held" in lines

    t.agents_saw()  # what the agents were told so far
    (weekly,) = await t.agent("stats week", user="mia", name="Mia")
    assert weekly.startswith("This week so far, as of Mon 05 Jan 11:35 (UTC) — week 02, 05 Jan")


async def test_stats_are_for_managers_only(t: Transcript) -> None:
    assert await t.agent("stats", user="dana", name="Dana") == [replies.NOT_A_MANAGER]
    assert await t.agent("stats year", user="mia", name="Mia", channel="fake:managers") == [
        as_sent(replies.STATS_USAGE)
    ]
