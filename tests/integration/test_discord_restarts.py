"""A restart between an escalation and an agent's next word on Discord: the case thread and the
Reply form work in a new client on the same database, and a Reply form works for every agent who
opens one, not only for the process or the last person that opened it. SimCord runs discord.py's
real client, views and modals; it cannot prove the gateway's own redelivery behaviour."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import discord
import pytest
from sqlalchemy import select

from bot.cases.transcript import EventKind
from bot.clock import FrozenClock
from bot.dialogs import replies
from bot.storage.models import CaseEvent
from tests.support.discord_sim import DiscordDesk, DiscordWorld, running_discord_desk, shown


@pytest.fixture
async def d(
    world: DiscordWorld, migrated_url: str, clock: FrozenClock, tmp_path: Path
) -> AsyncIterator[DiscordDesk]:
    async with running_discord_desk(world, migrated_url, clock, tmp_path) as built:
        yield built


async def escalate(d: DiscordDesk) -> discord.Message:
    """Ada asks for a person in a DM; returns the escalation post."""
    w = d.world
    await w.customer.send_dm("I need a human, my hub is dead")
    await d.deliver()
    return w.agents.history()[0]


async def notes_of(d: DiscordDesk, case: int) -> list[str]:
    async with d.helpdesk.sessions() as s:
        rows = await s.scalars(
            select(CaseEvent.body).where(
                CaseEvent.case_id == case, CaseEvent.kind == EventKind.NOTE.value
            )
        )
        return list(rows)


async def test_a_reply_form_opened_before_a_restart_reaches_the_customer_after_it(
    d: DiscordDesk,
) -> None:
    post = await escalate(d)
    w = d.world
    opened = await w.dana.click(post, label="Reply")
    assert opened.modal is not None
    await d.restart()

    await w.dana.submit_modal(opened, {"text": "Sent you a replacement hub."})
    await d.deliver()
    said = shown(w.customer.dm_channel.last_message)
    assert said == "Dana (Support): Sent you a replacement hub."


async def test_two_agents_with_reply_forms_open_on_one_case_are_both_answered(
    d: DiscordDesk,
) -> None:
    post = await escalate(d)
    w = d.world
    dana_form = await w.dana.click(post, label="Reply")
    eve_form = await w.eve.click(post, label="Reply")  # the same form, opened a second time

    await w.eve.submit_modal(eve_form, {"text": "I can help."})
    await d.deliver()
    assert shown(w.customer.dm_channel.last_message) == "Eve (Support): I can help."
    # Eve's reply claimed the case: Dana's form is still handled, and she is told why it
    # did not go out
    seen_by_all = len(w.agents.history())
    submitted = await w.dana.submit_modal(dana_form, {"text": "Looking into it."})
    await d.deliver()
    assert shown(w.customer.dm_channel.last_message) == "Eve (Support): I can help."
    (told,) = submitted.followups  # to Dana only: a refusal is nobody else's business
    assert told.ephemeral and shown(told) == replies.claim_conflict(1, "Eve")
    assert len(w.agents.history()) == seen_by_all


async def test_after_a_restart_a_note_and_a_reply_in_the_case_thread_reach_the_case(
    d: DiscordDesk,
) -> None:
    await escalate(d)
    w = d.world
    (thread,) = w.agents.threads
    await d.restart()

    await w.eve.send(thread, "firmware 1.2 on the hub")
    await d.deliver()
    assert await notes_of(d, 1) == ["firmware 1.2 on the hub"]
    await w.eve.send(thread, "/reply Please update the firmware.")
    await d.deliver()
    assert shown(w.customer.dm_channel.last_message) == "Eve (Support): Please update the firmware."
