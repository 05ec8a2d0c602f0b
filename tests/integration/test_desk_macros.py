"""Macros: canned replies with placeholders, edited by admins, sent by agents."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.clock import FrozenClock
from bot.config import DeskConfig, QueueConfig, RoleMembers, Roles
from bot.dialogs import replies
from bot.messages import InboundKind
from bot.storage.models import CaseEvent, Macro
from tests.support.desk import Transcript, as_sent, build_transcript

GREETING = "Hi {customer_name}, {agent} here — I'm on case #{case_number} now."


@pytest.fixture
async def t(migrated_url: str, clock: FrozenClock, tmp_path: Path) -> AsyncIterator[Transcript]:
    desk = DeskConfig(
        roles=Roles(agents=RoleMembers(fake=["dana", "eve"]), admins=RoleMembers(fake=["dana"])),
        queues=[QueueConfig(name="default", channel="fake:agents")],
        answer_threshold=0.5,
    )
    transcript = await build_transcript(migrated_url, clock, tmp_path, desk=desk)
    yield transcript
    await transcript.helpdesk.close()


async def test_admins_edit_macros_and_agents_send_them_filled_in(t: Transcript) -> None:
    await t.say("I need a person about my delivery")
    t.agents_saw()
    assert await t.agent("macro list") == [as_sent(replies.NO_MACROS)]
    assert await t.agent(f"macro set hello {GREETING}", user="eve", name="Eve") == [
        replies.NOT_AN_ADMIN_FOR_MACROS
    ]
    assert await t.agent(f"macro set hello {GREETING}") == [replies.macro_saved("hello", True)]
    assert await t.agent("macro set bye Bye {name}!") == [
        "Unknown placeholder {name}. Placeholders: {customer_name}, {case_number}, {agent}."
    ]
    assert await t.agent("macro list", user="eve", name="Eve") == [
        replies.macro_list([("hello", GREETING)])
    ]
    filled = "Hi Ada, Eve here — I'm on case #1 now."
    assert await t.agent("macro show hello 1", user="eve", name="Eve") == [
        replies.macro_preview("hello", filled, 1)
    ]
    assert t.new_for(t.customer) == []  # a preview goes nowhere

    thread = await t.thread_of(1)
    await t.agent("macro hello", channel=thread, user="eve", name="Eve")
    assert t.new_for(t.customer) == [f"Eve (Support): {filled}"]
    async with t.helpdesk.sessions() as s:
        sent = await s.scalar(select(CaseEvent).where(CaseEvent.kind == "agent_message"))
    assert sent is not None and (sent.body, sent.data) == (filled, {"macro": "hello"})

    assert await t.agent("macro 1 nope", user="eve", name="Eve") == [
        "There is no macro 'nope'. Try 'macro list'."
    ]
    assert await t.agent("macro delete hello", user="eve", name="Eve") == [
        replies.NOT_AN_ADMIN_FOR_MACROS
    ]
    assert await t.agent("macro delete hello") == [replies.macro_deleted("hello")]
    async with t.helpdesk.sessions() as s:
        assert list(await s.scalars(select(Macro))) == []


async def test_a_macro_needs_a_case_outside_a_thread(t: Transcript) -> None:
    await t.agent(f"macro set hello {GREETING}")
    assert await t.agent("macro hello") == ["Which case? Try 'macro 12 hello'."]
    assert await t.agent("hello there", kind=InboundKind.MESSAGE) == []  # chatter: ignored
