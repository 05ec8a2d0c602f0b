"""A help desk wired to the real Discord adapter, running against SimCord's in-memory Discord.

SimCord (MIT, pinned in the ``test`` extra) runs discord.py's own parsers, cache, views,
dynamic items and modals; it replaces only the REST transport and the gateway feed. The world
(a guild with a support channel and an agents' channel, a customer, agents) is built once per
test on a placeholder client; every ``DiscordChannel.start`` then attaches its client with
``env.restart_bot`` — so a second adapter over the same world is a real restart.

What it cannot show: the websocket itself, heartbeats, real rate limits and Discord's rendering.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import discord
import simcord

from bot.adapters.discord import DiscordChannel, agent_channels_of
from bot.adapters.fake import FakeChannel
from bot.bootstrap import HelpDesk, build_helpdesk
from bot.clock import Clock
from bot.config import DeskConfig, QueueConfig, RoleMembers, Roles, Settings
from tests.support.desk import KeywordUnderstander


class SimConnector:
    """Attaches a client to the running SimCord world (a restart of the simulated bot)."""

    def __init__(self, env: simcord.Env) -> None:
        self._env = env
        self.failure: str | None = None  # SimCord has no websocket to lose

    async def wait_lost(self) -> None:
        await asyncio.Event().wait()

    async def open(self, client: discord.Client) -> None:
        await self._env.restart_bot(client)

    async def close(self, client: discord.Client) -> None:
        await self._env.settle()


@dataclass
class DiscordWorld:
    env: simcord.Env
    guild: simcord.GuildHandle
    support: simcord.ChannelHandle
    agents: simcord.ChannelHandle
    customer: simcord.UserHandle
    dana: simcord.MemberActor  # an agent by user id
    eve: simcord.MemberActor  # an agent through the Support role
    support_role: simcord.RoleHandle
    member: simcord.MemberActor  # the customer as a member of the guild

    def adapter(self) -> DiscordChannel:
        return DiscordChannel(
            connector=SimConnector(self.env),
            agent_channels=agent_channels_of([f"discord:{self.agents.id}"]),
        )


@dataclass
class DiscordDesk:
    """The help desk with the Discord adapter (and a fake channel for cross-platform tests)."""

    world: DiscordWorld
    helpdesk: HelpDesk
    adapter: DiscordChannel
    fake: FakeChannel = field(default_factory=FakeChannel)

    async def deliver(self) -> int:
        """Send everything the outbox holds, then let the bot react to what it sent."""
        delivered = await self.helpdesk.sender.drain()
        await self.world.env.settle()
        return delivered

    async def restart(self) -> None:
        """Stop the adapter and start a fresh one (a new client) on the same world."""
        await self.adapter.stop()
        self.adapter = self.world.adapter()
        self.helpdesk.channels["discord"] = self.adapter  # type: ignore[index]
        await self.adapter.start(self.helpdesk.intake.receive)


def placeholder_client() -> discord.Client:
    return discord.Client(intents=discord.Intents.default())


@asynccontextmanager
async def simulated_discord() -> AsyncIterator[simcord.Env]:
    """A running SimCord world (on a placeholder client until an adapter starts). Errors the
    bot swallowed fail the test at the end, as ``simcord.run`` does."""
    env = simcord.Env(placeholder_client())  # strict_sync: /helpdesk must really be synced
    await env.start()
    try:
        yield env
    finally:
        await env.shutdown()
        env._raise_errors_since(env._errors_acknowledged)


def discord_world(env: simcord.Env) -> DiscordWorld:
    guild = env.create_guild("Lumio")
    support = guild.create_text_channel("help")
    agents = guild.create_text_channel("agents")
    role = guild.create_role("Support")
    customer = env.create_user("ada", global_name="Ada")
    return DiscordWorld(
        env=env,
        guild=guild,
        support=support,
        agents=agents,
        customer=customer,
        dana=guild.add_member(env.create_user("dana", global_name="Dana")),
        eve=guild.add_member(env.create_user("eve", global_name="Eve"), roles=[role]),
        support_role=role,
        member=guild.add_member(customer),
    )


def discord_desk_config(world: DiscordWorld, *, queue: str | None = None) -> DeskConfig:
    """Agents: Dana by user id, anyone with the Support role; the queue is the agents' channel
    (or ``queue``, e.g. ``fake:agents`` for a cross-platform desk)."""
    return DeskConfig(
        roles=Roles(
            agents=RoleMembers(
                discord=[str(world.dana.id), f"group:{world.support_role.id}"], fake=["dana"]
            )
        ),
        queues=[QueueConfig(name="default", channel=queue or f"discord:{world.agents.id}")],
        answer_threshold=0.5,
    )


@asynccontextmanager
async def running_discord_desk(
    world: DiscordWorld, database_url: str, clock: Clock, tmp_path: Path, **options: Any
) -> AsyncIterator[DiscordDesk]:
    """``build_discord_desk``, stopped and closed when the block ends (a test's fixture)."""
    desk = await build_discord_desk(world, database_url, clock, tmp_path, **options)
    try:
        yield desk
    finally:
        await desk.adapter.stop()
        await desk.helpdesk.close()


async def build_discord_desk(
    world: DiscordWorld,
    database_url: str,
    clock: Clock,
    tmp_path: Path,
    *,
    desk: DeskConfig | None = None,
) -> DiscordDesk:
    desk = desk or discord_desk_config(world)
    adapter = DiscordChannel(
        connector=SimConnector(world.env),
        agent_channels=agent_channels_of([q.channel for q in desk.queues]),
    )
    fake = FakeChannel()
    helpdesk = await build_helpdesk(
        Settings(DATABASE_URL=database_url, HELPDESK_DATA_DIR=tmp_path),
        channels={"discord": adapter, "fake": fake},
        understander=KeywordUnderstander(),
        clock=clock,
        desk=desk,
    )
    await adapter.start(helpdesk.intake.receive)
    return DiscordDesk(world=world, helpdesk=helpdesk, adapter=adapter, fake=fake)


def shown(message: discord.Message | None) -> str:
    """What a person sees: the content without markdown escapes and zero-width spaces."""
    if message is None:
        return ""
    return re.sub(r"\\(.)", r"\1", message.content).replace("\u200b", "")


def labels(message: discord.Message) -> list[str]:
    return [
        child.label or ""
        for row in message.components
        for child in getattr(row, "children", [])
        if isinstance(child, discord.Button)
    ]


def close_dms(env: simcord.Env, dm_channel_id: int) -> None:
    """The person turned off DMs from server members / blocked the bot: every message to their
    DM channel gets Discord's 403 with code 50007, as the real API answers (SimCord only knows
    this answer for DMs to bots)."""
    env.inject_error(
        "POST",
        f"/channels/{dm_channel_id}/messages",
        status=403,
        code=50007,
        message="Cannot send messages to this user",
        times=None,
    )


def last_request(env: simcord.Env, method: str, path_pattern: str) -> Any:
    pattern = re.compile(path_pattern)
    for entry in reversed(env.http_requests):
        if entry.method == method and pattern.search(entry.path):
            return entry
    raise AssertionError(f"no {method} {path_pattern} among {len(env.http_requests)} requests")
