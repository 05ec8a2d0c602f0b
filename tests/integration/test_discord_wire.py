"""Smoke tests at the wire: the adapter built from ``Settings`` the way ``helpdesk run`` builds
it (``DISCORD_TOKEN``, ``DISCORD_API_URL``, ``DISCORD_GATEWAY_URL``), sending through
discord.py's real HTTP client to a local stand-in, and holding a real websocket to the
stand-in's gateway until Discord closes it for good. SimCord covers receiving; the stand-in's
gateway does not model heartbeats, resumes or compression.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import discord
import httpx
import pytest

from bot.adapters.discord import DiscordChannel, build
from bot.config import Settings
from bot.dialogs import replies
from bot.errors import RetryableSendError
from bot.messages import (
    AdapterNotices,
    Button,
    ChannelRef,
    Inbound,
    Outbound,
    SentRef,
    button_payload,
)
from bot.web import create_web_app
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
        assert adapter.failure is None  # a sending process holds no gateway to lose
    finally:
        await adapter.stop()


async def ignore(_: Inbound) -> None:
    return None


async def test_a_fatal_gateway_close_is_logged_fails_health_and_ends_the_watch(
    wire: DiscordWire, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    adapter = build(settings(tmp_path, wire.base_url, DISCORD_GATEWAY_URL=wire.gateway_url), True)
    assert isinstance(adapter, DiscordChannel)
    await adapter.start(ignore)
    web = create_web_app({"discord": adapter})
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=web), base_url="http://desk.test"
        ) as client:
            assert (await client.get("/healthz")).status_code == 200
            watch = asyncio.create_task(adapter.wait_lost())
            with caplog.at_level(logging.ERROR, logger="bot.adapters.discord"):
                await wire.close_gateway(4014)  # a privileged intent was switched off
                with pytest.raises(discord.PrivilegedIntentsRequired):
                    await asyncio.wait_for(watch, 10)
            assert "MESSAGE CONTENT" in caplog.text and "offline" in caplog.text
            health = await client.get("/healthz")
            assert health.status_code == 503
            assert "4014" in health.json()["failures"]["discord"]
    finally:
        await adapter.stop()


async def test_a_rejected_token_at_identify_stops_the_start_with_what_to_do(
    wire: DiscordWire, tmp_path: Path
) -> None:
    wire.close_on_identify = 4004
    adapter = build(settings(tmp_path, wire.base_url, DISCORD_GATEWAY_URL=wire.gateway_url), True)
    assert isinstance(adapter, DiscordChannel)
    try:
        with pytest.raises(discord.ConnectionClosed):
            await adapter.start(ignore)
        assert adapter.failure is not None and "DISCORD_TOKEN" in adapter.failure
    finally:
        await adapter.stop()


@pytest.fixture
async def sender(wire: DiscordWire, tmp_path: Path) -> AsyncIterator[DiscordChannel]:
    """A sending process's adapter, with the notices the composition root gives it."""
    adapter = build(settings(tmp_path, wire.base_url), False)
    assert isinstance(adapter, DiscordChannel)
    adapter.use_notices(AdapterNotices(thread_unavailable=replies.THREAD_UNAVAILABLE))
    await adapter.start(ignore)
    yield adapter
    await adapter.stop()


def case_post() -> Outbound:
    return Outbound(
        channel=ChannelRef("discord", "42"),
        text="New case #3\nMy printer is on fire",
        title="#3 My printer is on fire",
        buttons=(Button("Claim", button_payload("claim", 3)),),
    )


def line_in_thread(post: SentRef, text: str) -> Outbound:
    """As the outbox resolves a thread key: the post's thread, else the post's id."""
    thread = post.thread or post.message_id
    return Outbound(channel=ChannelRef("discord", post.channel, thread), text=text)


async def test_a_rate_limited_thread_posts_the_case_once_and_opens_with_its_next_line(
    wire: DiscordWire, sender: DiscordChannel
) -> None:
    wire.threads_rate_limited = 120.0  # longer than discord.py waits: RateLimited
    post = await sender.send(case_post())
    assert [channel for channel, _ in wire.posted] == ["42"]  # posted once, not retried
    assert post.thread is None

    await sender.send(line_in_thread(post, "Ada wrote: it is still smoking"))
    channel, body = wire.posted[-1]
    assert channel == post.message_id  # the thread was started now, from the post
    assert "still smoking" in body["content"]


async def test_without_permission_for_threads_agents_are_told_and_lines_answer_the_post(
    wire: DiscordWire, sender: DiscordChannel
) -> None:
    wire.threads_refused = 403
    post = await sender.send(case_post())
    (_, notice) = wire.posted[-1]
    assert notice["content"] == replies.THREAD_UNAVAILABLE
    assert str(notice["message_reference"]["message_id"]) == post.message_id

    await sender.send(line_in_thread(post, "Ada wrote: it is still smoking"))
    channel, body = wire.posted[-1]
    assert channel == "42" and "still smoking" in body["content"]
    assert str(body["message_reference"]["message_id"]) == post.message_id


async def test_a_failing_thread_creation_keeps_the_line_for_a_retry(
    wire: DiscordWire, sender: DiscordChannel
) -> None:
    wire.threads_refused = 503  # discord.py gives up on a 503 at once (500/502/504 after 25 s)
    post = await sender.send(case_post())
    assert len(wire.posted) == 1  # no notice: Discord failing is not a missing permission

    with pytest.raises(RetryableSendError):
        await sender.send(line_in_thread(post, "Ada wrote: hello?"))
    wire.threads_refused = None
    await sender.send(line_in_thread(post, "Ada wrote: hello?"))
    assert wire.posted[-1][0] == post.message_id
