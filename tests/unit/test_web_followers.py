"""A browser's follower keeps delivering when the session log fails for a moment (a database
busy under load): the entry written meanwhile still reaches the browser, once."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping
from typing import Any

from bot.adapters.web_hub import Follower
from bot.messages import LoggedMessage


class FlakyLog:
    """An in-memory session log whose first read fails."""

    def __init__(self) -> None:
        self.entries: list[LoggedMessage] = []
        self.failures = 1

    async def append(self, session: str, body: Mapping[str, Any], *, client_id: str = "") -> int:
        self.entries.append(LoggedMessage(len(self.entries) + 1, session, body))
        return len(self.entries)

    async def since(self, session: str, after: int, limit: int) -> list[LoggedMessage]:
        if self.failures:
            self.failures -= 1
            raise TimeoutError("QueuePool limit reached")  # what a busy pool raises
        return [e for e in self.entries if e.session == session and e.seq > after][:limit]

    async def latest(self, sessions: Collection[str]) -> dict[str, int]:
        return {}


async def test_a_failed_read_of_the_log_is_tried_again_and_nothing_is_skipped() -> None:
    log = FlakyLog()
    await log.append("s1", {"kind": "desk", "text": "Your answer"})
    shown: list[int] = []
    arrived = asyncio.Event()

    async def deliver(entry: LoggedMessage) -> None:
        shown.append(entry.seq)
        arrived.set()

    follower = Follower("s1", 0, deliver, retry_seconds=0.0)
    pump = asyncio.create_task(follower.pump(log))
    try:
        await asyncio.wait_for(arrived.wait(), 5)
    finally:
        pump.cancel()
    assert shown == [1] and log.failures == 0
