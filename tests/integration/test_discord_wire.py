"""One smoke test at the wire: the adapter built from ``Settings`` the way ``helpdesk run``
builds it (``DISCORD_TOKEN``, ``DISCORD_API_URL``), sending through discord.py's real HTTP client
to a local stand-in. The gateway is not exercised here (a sending process does not open it);
SimCord covers receiving.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import discord
import pytest

from bot.adapters.discord import DiscordChannel, build
from bot.config import Settings
from bot.errors import RetryableSendError
from bot.messages import Button, ChannelRef, Outbound, button_payload
from tests.support.discord_wire import DiscordWire, discord_wire


@pytest.fixture
async def wire(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[DiscordWire]:
    # build() points discord.py's class-level endpoint at the stand-in; put it back afterwards
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    gateway = discord.gateway.DiscordWebSocket
    monkeypatch.setattr(gateway, "DEFAULT_GATEWAY", gateway.DEFAULT_GATEWAY)
    async with discord_wire() as w:
        yield w


def settings(tmp_path: Path, api_url: str, **extra: str) -> Settings:
    config = tmp_path / "helpdesk.yml"
    config.write_text(
        "queues:\n"
        "  - {name: default, channel: 'discord:42'}\n"
        "  - {name: vip, channel: 'slack:C1'}\n"
    )
    return Settings(
        HELPDESK_CONFIG=config,
        HELPDESK_DATA_DIR=tmp_path,
        DISCORD_TOKEN="not-a-real-token",
        DISCORD_API_URL=api_url,
        **extra,
    )


def test_without_a_token_there_is_no_discord_adapter(tmp_path: Path) -> None:
    assert build(Settings(HELPDESK_DATA_DIR=tmp_path, DISCORD_TOKEN=""), True) is None


async def test_a_sending_process_posts_through_the_configured_api_url(
    wire: DiscordWire, tmp_path: Path
) -> None:
    local_gateway = "ws://127.0.0.1:9/"
    adapter = build(settings(tmp_path, wire.base_url, DISCORD_GATEWAY_URL=local_gateway), False)
    assert isinstance(adapter, DiscordChannel)
    assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == local_gateway
    assert adapter.client.agent_channels == frozenset({"discord:42"})

    async def ignore(_: object) -> None:
        return None

    await adapter.start(ignore)
    try:
        ref = await adapter.send(
            Outbound(
                channel=ChannelRef("discord", "42"),
                text="Ada wrote: @everyone help",
                buttons=(Button("Claim", button_payload("claim", 3)),),
            )
        )
        assert ref.channel == "42" and ref.message_id
        ((channel, body),) = wire.posted
        assert channel == "42"
        assert body["allowed_mentions"] == {"parse": []}
        assert "@everyone" not in body["content"]
        (row,) = body["components"]
        assert row["components"][0]["custom_id"] == "claim:3:"

        wire.rate_limit_next = 120.0  # longer than the client waits by itself
        with pytest.raises(RetryableSendError) as raised:
            await adapter.send(Outbound(channel=ChannelRef("discord", "42"), text="again"))
        assert raised.value.retry_after == pytest.approx(120.0)
        assert len(wire.posted) == 1
    finally:
        await adapter.stop()
