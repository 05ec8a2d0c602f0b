"""The whole help desk with the web chat, served by uvicorn on 127.0.0.1 (port 0) from a thread
of its own, so a test can drive real Chromium (Selenium blocks) while the desk runs: the
intake, the outbox sender and the web process's poll of the session log all run as in
``helpdesk run --role web``. Agents work in a fake channel (``fake:agents``); ``agent`` hands
their commands to the same intake.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import uvicorn
from sqlalchemy import func, select

from bot.adapters.fake import FakeChannel
from bot.adapters.web import WebChannel
from bot.adapters.web_visit import RateLimit
from bot.bootstrap import HelpDesk, build_helpdesk, start_channels
from bot.config import DeskConfig, QueueConfig, RoleMembers, Roles, Settings
from bot.dialogs.understanding import Understander
from bot.messages import ChannelRef, Inbound, InboundKind
from bot.storage.models import OutboxMessage
from bot.web import create_web_app

T = TypeVar("T")
WEB_SECRET = "web-secret-for-tests"
IDENTITY_SECRET = "site-secret-for-tests"
AGENTS = "fake:agents"
DELIVERY_TIMEOUT = 20.0
START_TIMEOUT = 540.0  # a first start trains the intent model (minutes on shared cores)


def web_desk_config() -> DeskConfig:
    return DeskConfig(
        roles=Roles(agents=RoleMembers(fake=["dana"])),
        queues=[QueueConfig(name="default", channel=AGENTS)],
    )


@dataclass
class ServedDesk:
    helpdesk: HelpDesk
    web: WebChannel
    agents: FakeChannel
    loop: asyncio.AbstractEventLoop
    port: int
    _events: Iterator[int] = field(default_factory=lambda: iter(range(1, 10**6)))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def call(self, work: Awaitable[T], timeout: float = 30) -> T:
        """Run ``work`` on the desk's loop and wait for it."""
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)  # type: ignore[arg-type]

    def agent(self, text: str, *, user: str = "dana", name: str = "Dana") -> None:
        """An agent types a command in the agents' channel; returns once it is handled and
        what it sent is delivered (to the web chat's log, whether or not a browser is
        connected)."""
        inbound = Inbound(
            kind=InboundKind.COMMAND,
            event_id=f"agent-{next(self._events)}",
            channel=ChannelRef.parse(AGENTS),
            user_id=user,
            user_name=name,
            text=text,
            is_direct=False,
        )
        self.call(self.helpdesk.intake.accept(inbound))
        self.call(self.helpdesk.intake.wait_idle())
        self.call(_delivered(self.helpdesk))

    def restart_web(self) -> None:
        """The web chat stops (its sockets closed, new ones refused), as in a restart."""
        self.call(self.web.stop())

    def resume_web(self) -> None:
        self.call(self.web.start(self.helpdesk.intake.accept))

    def agents_saw(self) -> list[str]:
        return self.call(_texts(self.agents))


async def _delivered(helpdesk: HelpDesk) -> None:
    """Wait until the outbox sender (running in the desk) has nothing pending: a condition
    checked every few milliseconds, never a guessed delay."""
    async with asyncio.timeout(DELIVERY_TIMEOUT):
        while True:
            async with helpdesk.sessions() as db:
                pending = await db.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.status == "pending")
                )
            if not pending:
                return
            await asyncio.sleep(0.02)


async def _texts(channel: FakeChannel) -> list[str]:
    return channel.texts()


@contextmanager
def served_desk(
    database_url: str,
    data_dir: Path,
    *,
    origins: tuple[str, ...] = (),
    understander: Understander | None = None,
    limit: RateLimit | None = None,
) -> Iterator[ServedDesk]:
    """Build the desk (the real model from ``data_dir`` unless ``understander`` is given),
    serve it, stop it afterwards."""
    loop = asyncio.new_event_loop()
    ready: list[ServedDesk] = []
    started = threading.Event()
    failure: list[BaseException] = []
    stop = asyncio.Event()

    async def main() -> None:
        settings = Settings(DATABASE_URL=database_url, HELPDESK_DATA_DIR=data_dir)
        web = WebChannel(
            secret=WEB_SECRET, identity_secret=IDENTITY_SECRET, origins=origins, limit=limit
        )
        agents = FakeChannel()
        helpdesk = await build_helpdesk(
            settings,
            channels={"web": web, "fake": agents},
            desk=web_desk_config(),
            understander=understander,
        )
        tasks = [
            asyncio.create_task(helpdesk.intake.run()),
            asyncio.create_task(helpdesk.sender.run()),
        ]
        await start_channels(helpdesk)
        server = uvicorn.Server(
            uvicorn.Config(
                create_web_app(helpdesk.channels), host="127.0.0.1", port=0, log_level="warning"
            )
        )
        # bound and listening before the browser is told the port: its first request waits
        # in the backlog until uvicorn accepts it
        listener = socket.create_server(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        serving = asyncio.create_task(server.serve(sockets=[listener]))
        ready.append(ServedDesk(helpdesk, web, agents, loop, port))
        started.set()
        await stop.wait()
        server.should_exit = True
        await serving
        helpdesk.intake.stop()
        for channel in helpdesk.channels.values():
            await channel.stop()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await helpdesk.close()

    def run() -> None:
        try:
            loop.run_until_complete(main())
        except BaseException as error:  # shown by the test that waited for the desk
            failure.append(error)
            started.set()

    thread = threading.Thread(target=run, name="served-desk", daemon=True)
    thread.start()
    if not started.wait(START_TIMEOUT):
        raise TimeoutError(f"the desk did not start in {START_TIMEOUT:.0f} s")
    if failure:
        raise failure[0]
    try:
        yield ready[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
        loop.close()
