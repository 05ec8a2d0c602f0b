"""A Discord customer served by agents on another platform: the queue lives on ``fake:agents``
(a FakeChannel), the customer talks to the real discord.py client over SimCord."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import simcord

from bot.clock import FrozenClock
from bot.messages import ChannelRef, Inbound, InboundKind
from tests.support.discord_sim import (
    DiscordDesk,
    discord_desk_config,
    discord_world,
    labels,
    running_discord_desk,
    shown,
)

_ids = itertools.count(1)


@pytest.fixture
async def d(
    discord_env: simcord.Env, migrated_url: str, clock: FrozenClock, tmp_path: Path
) -> AsyncIterator[DiscordDesk]:
    world = discord_world(discord_env)
    desk = discord_desk_config(world, queue="fake:agents")
    async with running_discord_desk(world, migrated_url, clock, tmp_path, desk=desk) as built:
        yield built


async def agent(d: DiscordDesk, text: str, thread: str | None = None) -> None:
    """Dana types a command in the fake agents' channel (or in a case thread there)."""
    await d.helpdesk.intake.receive(
        Inbound(
            kind=InboundKind.COMMAND,
            event_id=f"fake-{next(_ids)}",
            channel=ChannelRef("fake", "agents", thread),
            user_id="dana",
            user_name="Dana",
            text=text,
            is_direct=False,
        )
    )
    await d.deliver()


async def test_a_discord_customer_is_served_from_an_agent_channel_elsewhere(d: DiscordDesk) -> None:
    w = d.world
    dm = w.customer.dm_channel
    await w.customer.send_dm("I forgot my password")
    await d.deliver()
    card = dm.last_message
    assert card is not None
    await w.customer.click(card, label="Talk to a person")
    await d.deliver()

    (post,) = [o for o in d.fake.sent if o.buttons]
    assert "New case #1" in post.text and "discord" in post.text
    assert w.agents.history() == []  # nothing went to the Discord agents' channel

    await agent(d, "claim 1")
    assert "Dana from our team has joined" in shown(dm.last_message)
    await agent(d, "reply 1 A new link is on its way.")
    assert shown(dm.last_message) == "Dana (Support): A new link is on its way."

    await w.customer.send_dm("thanks, got it")
    await d.deliver()
    assert any("thanks, got it" in o.text for o in d.fake.sent)  # relayed to the agents

    await agent(d, "resolve 1")
    resolved = dm.last_message
    assert resolved is not None and "has been resolved" in shown(resolved)
    assert len(labels(resolved)) == 5
