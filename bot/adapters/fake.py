"""An in-memory channel for tests: records what was sent, can be told to fail."""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass, field

from bot.errors import SendError
from bot.messages import Capabilities, InboundHandler, Outbound, OutboundKind, SentRef


@dataclass
class FakeChannel:
    platform: str = "fake"
    capabilities: Capabilities = field(
        default_factory=lambda: Capabilities(threads=True, edits=True, buttons=True, forms=True)
    )
    sent: list[Outbound] = field(default_factory=list)
    failures: deque[SendError] = field(default_factory=deque)
    on_inbound: InboundHandler | None = None

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)

    async def start(self, on_inbound: InboundHandler) -> None:
        self.on_inbound = on_inbound

    async def stop(self) -> None:
        self.on_inbound = None

    async def send(self, outbound: Outbound) -> SentRef:
        if self.failures:
            raise self.failures.popleft()
        self.sent.append(outbound)
        if outbound.kind == OutboundKind.EDIT and outbound.edit_of is not None:
            return outbound.edit_of
        return SentRef(
            self.platform, outbound.channel.channel, str(next(self._ids)), outbound.channel.thread
        )

    def texts(self, channel: str | None = None) -> list[str]:
        """What people would read: thread operations without words are left out."""
        return [
            o.text
            for o in self.sent
            if (channel is None or str(o.channel.without_thread) == channel)
            and not (o.kind == OutboundKind.CLOSE_THREAD and not o.text)
        ]
