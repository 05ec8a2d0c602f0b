"""Card numbers are never stored in clear, and agents may see contact details masked.

Card numbers are masked before the inbound is stored, so the inbox row, the transcript, the
case, the answer feedback and the replies all hold only the masked form — and the masked
inbound is still handled like any other."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import FrozenClock
from bot.config import PrivacyConfig
from bot.messages import InboundKind
from bot.storage.models import Case
from tests.support.database_search import find_anywhere
from tests.support.desk import Transcript, build_transcript, test_desk

CARD = "4111 1111 1111 1111"
CLEAR = [CARD, CARD.replace(" ", ""), "4111-1111", "41111111"]


@pytest.fixture
async def t(migrated_url: str, clock: FrozenClock, tmp_path: Path) -> AsyncIterator[Transcript]:
    transcript = await build_transcript(migrated_url, clock, tmp_path)
    yield transcript
    await transcript.helpdesk.close()


async def test_a_card_number_is_stored_masked_and_the_message_still_handled(
    t: Transcript, engine: AsyncEngine
) -> None:
    await t.say(f"my delivery was charged twice to {CARD}")
    opened = await t.click("Talk to a person")
    assert any("case #1" in line for line in opened)
    (post,) = t.agents_saw()
    assert "[card ending 1111]" in post and CARD not in post
    await t.say(f"the other card is {CARD.replace(' ', '-')} too")
    await t.agent("claim 1")
    await t.agent("reply", kind=InboundKind.FORM, fields={"case": "1", "text": f"is it {CARD}?"})

    assert await find_anywhere(engine, CLEAR) == []
    assert await find_anywhere(engine, ["[card ending 1111]"])
    async with t.helpdesk.sessions() as s:
        case = await s.get_one(Case, 1)
    assert case.subject == "my delivery was charged twice to [card ending 1111]"
    assert t.new_for(t.customer)[-1] == "Dana (Support): is it [card ending 1111]?"


@pytest.fixture
async def masked(
    migrated_url: str, clock: FrozenClock, tmp_path: Path
) -> AsyncIterator[Transcript]:
    desk = test_desk().model_copy(update={"privacy": PrivacyConfig(mask_agent_view=True)})
    transcript = await build_transcript(migrated_url, clock, tmp_path, desk=desk)
    yield transcript
    await transcript.helpdesk.close()


async def test_agents_see_emails_and_phone_numbers_masked_when_the_desk_asks(
    masked: Transcript,
) -> None:
    t = masked
    await t.say("my delivery never came, mail ada.l@example.com")
    await t.click("Talk to a person")
    (post,) = t.agents_saw()
    assert "mail [email]" in post and "example.com" not in post
    await t.agent("claim 1")
    await t.say("or call me on +44 20 7946 0958")
    relayed = t.agents_saw()
    assert any("or call me on [phone ending 58]" in line for line in relayed)
    (transcript,) = await t.agent("case 1")
    assert "[email]" in transcript and "[phone ending 58]" in transcript
    assert "7946" not in transcript and "ada.l@" not in transcript
    async with t.helpdesk.sessions() as s:  # masking is a view: the case keeps what was said
        assert "ada.l@example.com" in (await s.get_one(Case, 1)).subject


async def test_by_default_agents_see_contact_details_as_written(t: Transcript) -> None:
    await t.say("my delivery never came, mail ada.l@example.com")
    await t.click("Talk to a person")
    (post,) = t.agents_saw()
    assert "mail ada.l@" in post and "example.com" in post  # (the @ kept from pinging)
