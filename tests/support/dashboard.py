"""The managers' dashboard served for tests: the web app (``create_web_app`` with the
dashboard's routes) on a real socket on 127.0.0.1, over a help desk driven by the fake adapter."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from bot.clock import Clock
from bot.dashboard.app import dashboard_routes
from bot.web import create_web_app
from tests.support.desk import Transcript

SECRET = "dashboard-secret-for-the-tests"
MANAGER = ("mia", "Mia")
ADMIN = ("adam", "Adam")
AGENT = ("dana", "Dana")
PASSWORD = "a long manager password"


@dataclass
class Served:
    url: str


def desk_yaml(
    *, managers: tuple[str, ...] = ("mia",), passwords: dict[str, str] | None = None
) -> str:
    """helpdesk.yml for the dashboard tests: dana and eve are agents, mia manages, adam
    administers; ``passwords`` maps fake:<id> to a hash."""
    lines = [
        "roles:",
        "  agents: {fake: [dana, eve]}",
        f"  managers: {{fake: [{', '.join(managers)}]}}",
        "  admins: {fake: [adam]}",
        "queues:",
        "  - {name: default, channel: 'fake:agents'}",
        "  - {name: billing, channel: 'fake:billing', intents: [billing]}",
        "answer_threshold: 0.5",
        "dashboard:",
        "  url: http://127.0.0.1/dashboard",
    ]
    if passwords:
        lines.append("  passwords:")
        lines += [f"    '{person}': '{stored}'" for person, stored in passwords.items()]
    return "\n".join(lines) + "\n"


@asynccontextmanager
async def serve_dashboard(
    t: Transcript, clock: Clock, config_file: Path, *, poll_seconds: float = 0.05
) -> AsyncIterator[Served]:
    routes = dashboard_routes(
        sessions=t.helpdesk.sessions,
        desk=t.helpdesk.desk,
        clock=clock,
        secret=SECRET,
        config_file=config_file,
        poll_seconds=poll_seconds,
    )
    app = create_web_app(t.helpdesk.channels, extra_routes=routes)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))  # bound before serving: no start-up race
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield Served(f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        await task
        sock.close()


LINK = re.compile(r"https?://\S+/dashboard/sign-in/(\S+)")


def link_token(texts: list[str]) -> str:
    """The token of the sign-in link among ``texts`` (what the person was sent)."""
    for text in texts:
        found = LINK.search(text)
        if found:
            return found.group(1)
    raise AssertionError(f"no sign-in link in {texts!r}")
