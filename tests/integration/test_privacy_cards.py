"""Card numbers are never stored in clear: masked before the inbound is stored, so the inbox row,
the transcript, the case, the answer feedback and the replies all hold only the masked form —
and the masked inbound is still handled like any other."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import FrozenClock
from bot.messages import InboundKind
from bot.storage.models import Case
from tests.support.database_search import find_anywhere
from tests.support.desk import Transcript, build_transcript

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
