"""Linking a customer's identities across platforms with a one-time code."""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.clock import FrozenClock
from bot.dialogs import replies
from bot.messages import ChannelRef
from bot.storage.models import Case, Customer, CustomerIdentity
from tests.support.desk import Transcript, build_transcript

ELSEWHERE = {"channel": ChannelRef("other", "chat-77"), "user_id": "77", "user_name": "Ada L."}


@pytest.fixture
async def t(migrated_url: str, clock: FrozenClock, tmp_path: Path) -> AsyncIterator[Transcript]:
    transcript = await build_transcript(migrated_url, clock, tmp_path, platforms=("fake", "other"))
    yield transcript
    await transcript.helpdesk.close()


def code_in(text: str) -> str:
    match = re.search(r"link code is ([A-Z0-9]+)", text)
    assert match, text
    return match.group(1)


async def test_a_code_from_one_platform_joins_the_history_on_another(t: Transcript) -> None:
    await t.say("I need a person about my delivery")  # case 1, on "fake"
    await t.say("hello", **ELSEWHERE)  # a customer of its own on "other", for now
    (shown,) = await t.say("/link")
    code = code_in(shown)
    assert await t.say(f"/link {code.lower()}", **ELSEWHERE) == [replies.linked("Ada")]
    (listing,) = await t.say("/status", **ELSEWHERE)
    assert "#1 — I need a person about my delivery — new" in listing
    async with t.helpdesk.sessions() as s:
        customers = await s.scalar(select(func.count()).select_from(Customer))
        owners = set(await s.scalars(select(CustomerIdentity.customer_id)))
        case = await s.get_one(Case, 1)
    assert customers == 1 and owners == {case.customer_id}
    assert await t.say(f"/link {code}", **ELSEWHERE) == [replies.LINK_USED]


async def test_wrong_expired_and_same_account_codes_are_refused_clearly(
    t: Transcript, clock: FrozenClock
) -> None:
    assert await t.say("/link NOPE2345", **ELSEWHERE) == [replies.LINK_UNKNOWN]
    code = code_in((await t.say("/link"))[0])
    assert await t.say(f"/link {code}") == [replies.LINK_SAME]
    clock.advance(minutes=16)
    assert await t.say(f"/link {code}", **ELSEWHERE) == [replies.LINK_EXPIRED]
    fresh = code_in((await t.say("/link"))[0])
    assert fresh != code
    assert await t.say(f"/link {fresh}", **ELSEWHERE) == [replies.linked("Ada")]
    async with t.helpdesk.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Customer)) == 1


async def test_link_codes_are_rate_limited_per_person_across_processes(
    t: Transcript, migrated_url: str, clock: FrozenClock, tmp_path: Path
) -> None:
    # a second process of the same desk: the count lives in the database, not in memory
    other = await build_transcript(migrated_url, clock, tmp_path, platforms=("fake", "other"))
    other._ids = itertools.count(1000)  # its own event ids: the inbox drops repeats
    try:
        code = code_in((await t.say("/link"))[0])
        for guess in ("WRONG234", "WRONG345", "WRONG456"):
            assert await t.say(f"/link {guess}", **ELSEWHERE) == [replies.LINK_UNKNOWN]
        for guess in ("WRONG567", "WRONG678"):
            assert await other.say(f"/link {guess}", **ELSEWHERE) == [replies.LINK_UNKNOWN]
        # the sixth try within ten minutes is refused, even with the right code
        assert await t.say(f"/link {code}", **ELSEWHERE) == [replies.LINK_TOO_MANY]
        assert await other.say(f"/link {code}", **ELSEWHERE) == [replies.LINK_TOO_MANY]
        # someone else is not held back by this person's tries
        bob = {"channel": ChannelRef("other", "chat-88"), "user_id": "88", "user_name": "Bob"}
        assert await t.say("/link WRONG789", **bob) == [replies.LINK_UNKNOWN]
        async with t.helpdesk.sessions() as s:
            assert await s.scalar(select(func.count()).select_from(Customer)) == 3
        clock.advance(minutes=10)
        assert await t.say(f"/link {code}", **ELSEWHERE) == [replies.linked("Ada")]
    finally:
        await other.helpdesk.close()
