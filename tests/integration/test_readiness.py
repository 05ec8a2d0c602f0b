"""``/readyz`` says, per dependency, whether the help desk can do its work: 200 when all pass,
503 naming each failing one — a database that is unreachable or does not answer, a schema behind
the code, an adapter whose connection ended, an outbox row long past due. ``/healthz`` stays
"the process is up". Requests go through httpx's ASGI transport."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from alembic import command
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.adapters.fake import FakeChannel
from bot.clock import FrozenClock
from bot.messages import Channel
from bot.readiness import readiness
from bot.storage.db import create_engine, session_factory
from bot.storage.migrate import alembic_config
from bot.storage.models import OutboxMessage
from bot.web import create_web_app


@dataclass
class GatewayChannel(FakeChannel):
    """An adapter holding a connection of its own; ``failure`` set once it ended for good."""

    platform: str = "gateway"
    failure: str | None = None

    async def wait_lost(self) -> None:  # pragma: no cover - not awaited here
        raise NotImplementedError


async def probe(
    sessions: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
    channels: Mapping[str, Channel] | None = None,
    within: float = 2.0,
) -> tuple[int, dict[str, Any]]:
    channels = channels if channels is not None else {"fake": FakeChannel()}
    app = create_web_app(channels, readiness(sessions, channels, clock, timeout=within))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://desk") as client:
        response = await client.get("/readyz")
    body: dict[str, Any] = response.json()
    return response.status_code, body


async def test_a_desk_with_everything_in_order_is_ready(
    sessions: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    status, body = await probe(sessions, clock)
    assert status == 200
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "migrations", "outbox", "adapter:fake"}
    assert all(check["ok"] for check in body["checks"].values())


async def test_an_unreachable_database_is_named(clock: FrozenClock) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    engine = create_engine(f"postgresql://postgres@127.0.0.1:{port}/helpdesk")
    try:
        status, body = await probe(session_factory(engine), clock)
    finally:
        await engine.dispose()
    assert status == 503
    assert {"database", "migrations", "outbox"} <= set(body["failing"])
    assert "adapter:fake" not in body["failing"]
    assert body["checks"]["database"]["detail"]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers (a hung database server)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


async def test_a_database_that_does_not_answer_fails_within_the_timeout(
    silent_port: int, clock: FrozenClock
) -> None:
    engine = create_engine(f"postgresql://postgres@127.0.0.1:{silent_port}/helpdesk")
    try:
        status, body = await probe(session_factory(engine), clock, within=0.3)
    finally:
        await engine.dispose()
    assert status == 503
    assert body["checks"]["database"] == {"ok": False, "detail": "no answer within 0.3 s"}


@pytest.fixture
async def behind(engine: AsyncEngine) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A database one revision behind the code."""

    def downgrade(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "-1")

    async with engine.begin() as connection:
        await connection.run_sync(downgrade)
    yield session_factory(engine)


async def test_a_database_behind_the_code_is_not_ready(
    behind: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    status, body = await probe(behind, clock)
    assert status == 503
    assert body["failing"] == ["migrations"]
    assert "code expects" in body["checks"]["migrations"]["detail"]


async def test_an_adapter_whose_connection_ended_is_named(
    sessions: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    gateway = GatewayChannel(failure="gateway closed: 4014 disallowed intents")
    channels = {"gateway": gateway, "fake": FakeChannel()}
    status, body = await probe(sessions, clock, channels)
    assert status == 503
    assert body["failing"] == ["adapter:gateway"]
    assert body["checks"]["adapter:gateway"]["detail"] == gateway.failure


async def test_an_outbox_row_long_past_due_means_the_sender_is_stuck(
    sessions: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    now = clock.now()
    async with sessions() as session:
        session.add(outbox_row(now - timedelta(minutes=1), "pending"))  # merely due: fine
        session.add(outbox_row(now - timedelta(hours=2), "parked"))  # reported, not failed on
        await session.commit()
    status, body = await probe(sessions, clock)
    assert status == 200
    assert "1 parked" in body["checks"]["outbox"]["detail"]

    clock.advance(minutes=10)
    status, body = await probe(sessions, clock)
    assert status == 503
    assert body["failing"] == ["outbox"]
    assert body["checks"]["outbox"]["detail"].startswith("1 pending")


def outbox_row(due: Any, status: str) -> OutboxMessage:
    return OutboxMessage(
        conversation="fake:dm-ada",
        platform="fake",
        payload={},
        status=status,
        next_attempt_at=due,
        created_at=due,
    )


async def test_healthz_stays_process_up_while_the_database_is_down(clock: FrozenClock) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    engine = create_engine(f"postgresql://postgres@127.0.0.1:{port}/helpdesk")
    channels = {"fake": FakeChannel()}
    app = create_web_app(channels, readiness(session_factory(engine), channels, clock))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://desk") as client:
            assert (await client.get("/readyz")).status_code == 503
            assert (await client.get("/healthz")).json() == {"status": "ok"}
    finally:
        await engine.dispose()
