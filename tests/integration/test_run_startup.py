"""``helpdesk run``'s start-up and stop: inbounds stored before a crash are handled before any
adapter takes traffic; a stop (SIGTERM) is honoured while an adapter is still connecting; the
web server stops without a traceback."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot.adapters.fake import FakeChannel
from bot.bootstrap import HelpDesk, build_helpdesk
from bot.cli.run import ProcessRole, needs_a_platform, serve
from bot.clock import FrozenClock
from bot.config import Settings
from bot.messages import ChannelRef, Inbound, InboundHandler, InboundKind
from bot.storage import inbox
from bot.storage.models import InboxMessage
from tests.support.desk import KeywordUnderstander, test_desk


@dataclass
class WatchfulChannel(FakeChannel):
    """Notes, when it is started, which stored inbounds are still unhandled; ``hang`` keeps
    ``start`` connecting forever (a platform that does not answer)."""

    hang: bool = False
    unhandled_at_start: list[str] | None = None
    helpdesk: HelpDesk | None = None
    started: asyncio.Event = field(default_factory=asyncio.Event)
    stopped: bool = False

    async def start(self, on_inbound: InboundHandler) -> None:
        assert self.helpdesk is not None
        async with self.helpdesk.sessions() as session:
            self.unhandled_at_start = list(
                await session.scalars(
                    select(InboxMessage.event_id).where(InboxMessage.status != "done")
                )
            )
        self.started.set()
        if self.hang:
            await asyncio.Event().wait()
        await super().start(on_inbound)

    async def stop(self) -> None:
        self.stopped = True
        await super().stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
async def helpdesk(
    database_url: str, clock: FrozenClock, tmp_path: Path
) -> AsyncIterator[tuple[HelpDesk, WatchfulChannel]]:
    channel = WatchfulChannel()
    settings = Settings(DATABASE_URL=database_url, HELPDESK_DATA_DIR=tmp_path, PORT=free_port())
    desk = await build_helpdesk(
        settings,
        channels={"fake": channel},
        understander=KeywordUnderstander(),
        clock=clock,
        desk=test_desk(),
    )
    channel.helpdesk = desk
    yield desk, channel
    await desk.engine.dispose()


async def test_inbounds_stored_before_a_crash_are_handled_before_adapters_start(
    helpdesk: tuple[HelpDesk, WatchfulChannel], clock: FrozenClock
) -> None:
    desk, channel = helpdesk
    for n in range(3):
        inbound = Inbound(
            kind=InboundKind.MESSAGE,
            event_id=f"before-crash-{n}",
            channel=ChannelRef("fake", "dm-ada"),
            user_id="ada",
            text="hello",
        )
        await inbox.record(desk.sessions, inbound, clock.now())
    stop = asyncio.Event()
    running = asyncio.create_task(serve(desk, ProcessRole.WORKER, stop))
    await channel.started.wait()
    stop.set()
    await asyncio.wait_for(running, 30)
    assert channel.unhandled_at_start == []


async def test_a_stop_while_an_adapter_is_still_connecting_is_honoured(
    helpdesk: tuple[HelpDesk, WatchfulChannel],
) -> None:
    desk, channel = helpdesk
    channel.hang = True
    stop = asyncio.Event()
    running = asyncio.create_task(serve(desk, ProcessRole.WORKER, stop))
    await channel.started.wait()
    stop.set()  # what the SIGTERM handler does
    await asyncio.wait_for(running, 30)
    assert channel.stopped


async def test_the_web_server_stops_cleanly_without_a_traceback(
    helpdesk: tuple[HelpDesk, WatchfulChannel], caplog: pytest.LogCaptureFixture
) -> None:
    desk, _ = helpdesk
    stop = asyncio.Event()
    caplog.set_level(logging.INFO)
    running = asyncio.create_task(serve(desk, ProcessRole.WEB, stop))
    url = f"http://127.0.0.1:{desk.settings.web_port}/healthz"
    async with httpx.AsyncClient() as client:
        for _ in range(200):
            try:
                if (await client.get(url)).status_code == 200:
                    break
            except httpx.TransportError:
                await asyncio.sleep(0.05)  # polling a starting server for readiness
    # uvicorn configures its loggers when it starts (they do not propagate to the root): listen
    uvicorn_logs = logging.getLogger("uvicorn.error")
    uvicorn_logs.addHandler(caplog.handler)
    stop.set()
    try:
        await asyncio.wait_for(running, 30)
    finally:
        uvicorn_logs.removeHandler(caplog.handler)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []
    # a cancelled uvicorn leaves its lifespan task behind, to die with a traceback at exit
    left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]
    assert left == []
    assert running.result() is False  # a clean stop, not a part that died


async def test_the_web_role_without_any_platform_serves_health_and_readiness(
    database_url: str, clock: FrozenClock, tmp_path: Path
) -> None:
    settings = Settings(DATABASE_URL=database_url, HELPDESK_DATA_DIR=tmp_path, PORT=free_port())
    desk = await build_helpdesk(
        settings, channels={}, understander=KeywordUnderstander(), clock=clock, desk=test_desk()
    )
    stop = asyncio.Event()
    running = asyncio.create_task(serve(desk, ProcessRole.WEB, stop))
    base = f"http://127.0.0.1:{settings.web_port}"
    try:
        async with httpx.AsyncClient(base_url=base) as client:
            for _ in range(200):
                try:
                    ready = await client.get("/readyz")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)  # polling a starting server for readiness
            health = await client.get("/healthz")
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)
    assert health.status_code == 200
    assert ready.status_code == 200, ready.text
    assert set(ready.json()["checks"]) == {"database", "migrations", "outbox"}


@pytest.mark.parametrize("role", ["worker", "all"])
def test_a_worker_without_any_platform_is_refused_in_a_sentence(
    role: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from bot.cli import app

    for token in ("SLACK_BOT_TOKEN", "TELEGRAM_TOKEN", "DISCORD_TOKEN"):
        monkeypatch.delenv(token, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'run.db'}")
    monkeypatch.setenv("HELPDESK_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["run", "--role", role])
    assert result.exit_code == 2
    assert "No platform is configured" in result.output


@pytest.mark.parametrize("role", ["web", "scheduler"])
def test_only_roles_that_would_receive_nothing_need_a_platform(role: str) -> None:
    assert not needs_a_platform(ProcessRole(role))


async def test_a_worker_serves_its_own_metrics_on_the_metrics_port(
    database_url: str, clock: FrozenClock, tmp_path: Path
) -> None:
    channel = WatchfulChannel()
    settings = Settings(
        DATABASE_URL=database_url,
        HELPDESK_DATA_DIR=tmp_path,
        PORT=free_port(),
        HELPDESK_METRICS_PORT=free_port(),
    )
    desk = await build_helpdesk(
        settings,
        channels={"fake": channel},
        understander=KeywordUnderstander(),
        clock=clock,
        desk=test_desk(),
    )
    channel.helpdesk = desk
    stop = asyncio.Event()
    running = asyncio.create_task(serve(desk, ProcessRole.WORKER, stop))
    base = f"http://127.0.0.1:{settings.metrics_port}"
    try:
        await channel.started.wait()
        assert channel.on_inbound is not None
        await channel.on_inbound(
            Inbound(
                kind=InboundKind.MESSAGE,
                event_id="through-the-worker",
                channel=ChannelRef("fake", "dm-ada"),
                user_id="ada",
                text="hello",
            )
        )
        async with httpx.AsyncClient(base_url=base) as client:
            for _ in range(200):
                try:
                    metrics = await client.get("/metrics")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)  # polling a starting server for readiness
            ready = await client.get("/readyz")
            with pytest.raises(httpx.ConnectError):  # no web app on PORT in a worker
                await client.get(f"http://127.0.0.1:{settings.web_port}/healthz")
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)
        await desk.engine.dispose()
    assert metrics.status_code == 200
    assert 'helpdesk_inbound_messages_total{kind="message",platform="fake"}' in metrics.text
    assert ready.status_code == 200, ready.text
