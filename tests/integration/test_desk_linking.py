"""Linking a customer's identities across platforms with a one-time code, confirmed by the
code's owner where they asked for it before anything merges."""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.clock import FrozenClock
from bot.dialogs import replies
from bot.dialogs.upkeep import DeskUpkeep
from bot.messages import ChannelRef, InboundKind, Outbound, split_payload
from bot.storage.models import Case, Customer, CustomerIdentity
from tests.support.desk import Transcript, as_sent, build_transcript

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


async def customers(t: Transcript) -> int:
    async with t.helpdesk.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(Customer)) or 0)


async def expire_requests(t: Transcript) -> list[int]:
    """What the scheduler's every-minute upkeep does."""
    async with t.helpdesk.uow() as uow:
        expired = await DeskUpkeep(desk=t.helpdesk.desk).expire_link_requests(uow)
        await uow.commit()
    await t.helpdesk.sender.drain()
    return expired


async def press_again(t: Transcript, payload: str, **kw: object) -> list[str]:
    """A press of a button already used or edited away (a double click, a stale screen)."""
    verb, case, arg = split_payload(payload)
    channel = kw.get("channel", t.customer)
    assert isinstance(channel, ChannelRef)
    inbound = t._inbound(kind=InboundKind.ACTION, action=verb, value=f"{case}:{arg}", **kw)
    await t._send(inbound)
    return t.new_for(channel, edits=False)


def question_in(t: Transcript) -> Outbound:
    (question,) = [o for o in t.sent_to(t.customer) if "link code was just typed" in o.text]
    return question


async def test_a_code_typed_elsewhere_joins_the_history_after_a_yes_where_it_was_asked(
    t: Transcript,
) -> None:
    await t.say("I need a person about my delivery")  # case 1, on "fake"
    await t.say("hello", **ELSEWHERE)  # a customer of its own on "other", for now
    code = code_in((await t.say("/link"))[0])
    assert await t.say(f"/link {code.lower()}", **ELSEWHERE) == [replies.link_asked(10)]
    assert await customers(t) == 2  # nothing merged on the code alone
    (asked,) = t.new_for(t.customer)
    assert asked == replies.link_question("other", "Ada L.", 10)
    assert t.live_buttons() == ["Yes", "No"]

    assert await t.click("Yes") == [replies.linked_here("other", "Ada L.")]
    assert t.new_for(ELSEWHERE["channel"]) == [replies.linked("Ada")]
    assert t.live_buttons() == []  # the question's buttons are edited away
    (listing,) = await t.say("/status", **ELSEWHERE)
    assert "#1 — I need a person about my delivery — new" in listing
    async with t.helpdesk.sessions() as s:
        owners = set(await s.scalars(select(CustomerIdentity.customer_id)))
        case = await s.get_one(Case, 1)
    assert await customers(t) == 1 and owners == {case.customer_id}

    # a second press of the same Yes (double click, another device) does nothing a second time
    assert await press_again(t, question_in(t).buttons[0].payload) == []
    assert t.new_for(ELSEWHERE["channel"]) == []
    assert await t.say(f"/link {code}", **ELSEWHERE) == [replies.LINK_USED]


async def test_a_stranger_typing_the_code_merges_nothing_and_a_no_cancels(t: Transcript) -> None:
    await t.say("I need a person about my delivery")  # case 1, Ada's
    code = code_in((await t.say("/link"))[0])
    stranger = {"channel": ChannelRef("other", "chat-66"), "user_id": "66", "user_name": "Mal"}
    assert await t.say(f"/link {code}", **stranger) == [replies.link_asked(10)]
    # the stranger forges the owner's answer from their own chat: not theirs to give
    yes = question_in(t).buttons[0].payload
    assert await press_again(t, yes, **stranger) == []
    assert await t.say("yes", **stranger) != [replies.linked("Ada")]
    assert await customers(t) == 2

    (asked,) = t.new_for(t.customer)
    assert "“Mal”" in asked
    assert await t.click("No") == [replies.LINK_DECLINED_HERE]
    assert t.new_for(stranger["channel"]) == [as_sent(replies.LINK_DECLINED_THERE, "other")]
    assert t.live_buttons() == []
    assert await press_again(t, yes) == []  # a Yes after the No changes nothing
    assert await customers(t) == 2
    assert await t.say("/status", **stranger) == [replies.NO_CASES]
    # the code is spent: typing it again asks nobody
    assert await t.say(f"/link {code}", **stranger) == [replies.LINK_USED]
    assert t.new_for(t.customer) == []


async def test_an_unanswered_question_expires_and_both_sides_are_told(
    t: Transcript, clock: FrozenClock
) -> None:
    code = code_in((await t.say("/link"))[0])
    await t.say(f"/link {code}", **ELSEWHERE)
    assert await t.say(f"/link {code}", **ELSEWHERE) == [replies.LINK_PENDING]
    t.new_for(t.customer)
    clock.advance(minutes=9)
    assert await expire_requests(t) == []
    clock.advance(minutes=1)
    assert await expire_requests(t) == [1]
    assert t.new_for(t.customer, edits=False) == [replies.link_expired_here("other")]
    assert t.new_for(ELSEWHERE["channel"]) == [as_sent(replies.LINK_EXPIRED_THERE, "other")]
    assert t.live_buttons() == []
    assert await expire_requests(t) == []  # told once
    assert await press_again(t, question_in(t).buttons[0].payload) == []
    assert await customers(t) == 2


async def test_a_late_yes_before_the_upkeep_ran_is_told_it_expired(
    t: Transcript, clock: FrozenClock
) -> None:
    code = code_in((await t.say("/link"))[0])
    await t.say(f"/link {code}", **ELSEWHERE)
    t.new_for(t.customer)
    clock.advance(minutes=11)
    assert await t.click("Yes") == [replies.link_expired_here("other")]
    assert t.new_for(ELSEWHERE["channel"]) == [as_sent(replies.LINK_EXPIRED_THERE, "other")]
    assert await expire_requests(t) == []
    assert await customers(t) == 2


async def test_a_typed_yes_or_no_answers_where_buttons_are_not_pressed(t: Transcript) -> None:
    code = code_in((await t.say("/link"))[0])
    await t.say(f"/link {code}", **ELSEWHERE)
    t.new_for(t.customer)
    assert await t.say("no") == [replies.LINK_DECLINED_HERE]
    assert await customers(t) == 2
    # a second code, and this time yes
    code = code_in((await t.say("/link"))[0])
    await t.say(f"/link {code}", **ELSEWHERE)
    t.new_for(t.customer)
    assert await t.say("Yes!") == [replies.linked_here("other", "Ada L.")]
    assert t.new_for(ELSEWHERE["channel"]) == [replies.linked("Ada")]
    assert await customers(t) == 1
    # with nothing to answer, "yes" is just a message again
    assert await t.say("yes") != [replies.linked_here("other", "Ada L.")]


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
    assert await t.say(f"/link {fresh}", **ELSEWHERE) == [replies.link_asked(10)]
    await t.click("Yes")
    assert await customers(t) == 1


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
        assert await t.say(f"/link {code}", **ELSEWHERE) == [replies.link_asked(10)]
    finally:
        await other.helpdesk.close()
