"""The terminal adapter: one person plays the customer and, with ``/agent …``, the agents.

Customer-facing messages print as ``bot> …`` with buttons as numbered choices (a bare number
picks one); agent-channel messages print prefixed ``[agents]``. Lines come from the keyboard or,
with a script, from a file — then each line is echoed as ``you> …`` and the adapter finishes at
the end of the script.

An edited agent card (after a claim, a priority change, …) prints as one status line, not the
whole card again: the terminal is a scrolling log, not a board; ``/agent case N`` shows it all.
``/help`` gets the bot's customer help and then ``local_help``: the terminal plays the agent too.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
import threading
import uuid
from collections.abc import Iterable
from typing import TextIO

from bot.messages import (
    Button,
    Capabilities,
    ChannelRef,
    Inbound,
    InboundHandler,
    InboundKind,
    Outbound,
    OutboundKind,
    SentRef,
    split_payload,
)

PLATFORM = "terminal"
CUSTOMER_CHANNEL = ChannelRef(PLATFORM, "customer")
AGENTS_CHANNEL = ChannelRef(PLATFORM, "agents")
AGENT_PREFIX = "/agent "
EXIT_WORDS = {"/quit", "/exit"}
HELP_WORD = "/help"
# who plays whom unless told otherwise: names that read well in "Hi Alex, this is Sam"
DEFAULT_CUSTOMER_NAME = "Alex"
DEFAULT_AGENT_NAME = "Sam"
STATUS_LINE_PREFIX = "Status:"  # the line of an agent card that an edit is summed up by


class ConsoleChannel:
    platform = PLATFORM
    capabilities = Capabilities(threads=False, edits=True, buttons=True, forms=False, files=False)

    def __init__(
        self,
        *,
        lines: Iterable[str] | None = None,
        out: TextIO | None = None,
        customer_id: str = "customer",
        customer_name: str = DEFAULT_CUSTOMER_NAME,
        agent_id: str = "agent",
        agent_name: str = DEFAULT_AGENT_NAME,
        local_help: str = "",
    ) -> None:
        self._script = lines
        self._out = out or sys.stdout
        self._local_help = local_help
        self._customer = (customer_id, customer_name)
        self._agent = (agent_id, agent_name)
        self._choices: tuple[Button, ...] = ()
        self._ids = itertools.count(1)
        self._task: asyncio.Task[None] | None = None
        self.finished = asyncio.Event()

    async def start(self, on_inbound: InboundHandler) -> None:
        self._task = asyncio.create_task(self._read(on_inbound))

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self.finished.set()

    async def send(self, outbound: Outbound) -> SentRef:
        message_id = str(next(self._ids))
        if outbound.kind == OutboundKind.CLOSE_THREAD and not outbound.text:
            pass  # the terminal has no threads to archive
        elif outbound.channel.channel == AGENTS_CHANNEL.channel:
            self._print_agents(outbound)
        else:
            self._print_customer(outbound)
        return SentRef(PLATFORM, outbound.channel.channel, message_id, outbound.channel.thread)

    def _print_customer(self, outbound: Outbound) -> None:
        if outbound.kind == OutboundKind.EDIT:
            # a terminal cannot change what it printed: an edit to the customer only retires
            # the buttons of an earlier message, and a pick of a retired choice does nothing
            return
        for line in outbound.text.splitlines() or [""]:
            self._write(f"bot> {line}")
        if outbound.buttons:
            self._choices = outbound.buttons
            choices = "   ".join(f"{i}) {b.label}" for i, b in enumerate(outbound.buttons, 1))
            self._write(f"     {choices}")

    def _print_agents(self, outbound: Outbound) -> None:
        lines = outbound.text.splitlines() or [""]
        if outbound.kind == OutboundKind.EDIT:
            status = [line for line in lines if line.startswith(STATUS_LINE_PREFIX)]
            lines = [" · ".join([f"(updated) {lines[0]}", *status[:1]])]
        for line in lines:
            self._write(f"[agents] {line}")

    def _write(self, text: str) -> None:
        self._out.write(text + "\n")
        self._out.flush()

    async def _read(self, on_inbound: InboundHandler) -> None:
        try:
            if self._script is not None:
                for raw in self._script:
                    line = raw.rstrip("\n")
                    if not line.strip() or line.lstrip().startswith("#"):
                        continue
                    self._write(f"you> {line}")
                    if not await self._take(line, on_inbound):
                        break
            else:
                lines, ask = self._keyboard()
                while True:
                    ask.release()  # prompt only once the previous line's replies are out
                    typed = await lines.get()
                    if typed is None or not await self._take(typed, on_inbound):
                        break
        finally:
            self.finished.set()

    async def _take(self, line: str, on_inbound: InboundHandler) -> bool:
        """Hand one line on; False when the person asked to leave."""
        if line.strip() in EXIT_WORDS:
            return False
        if line.strip():
            await on_inbound(self.to_inbound(line))
        if line.strip() == HELP_WORD and self._local_help:
            for help_line in self._local_help.splitlines():
                self._write(f"     {help_line}")
        return True

    def _keyboard(self) -> tuple[asyncio.Queue[str | None], threading.Semaphore]:
        """Lines typed at the prompt (None at the end of input), one per release of the
        semaphore.

        ``input()`` blocks its thread until Enter. On a daemon thread (not the event loop's
        executor, whose shutdown would wait for that thread) Ctrl-C stops the chat at once.
        """
        loop = asyncio.get_running_loop()
        lines: asyncio.Queue[str | None] = asyncio.Queue()
        ask = threading.Semaphore(0)

        def read() -> None:
            while True:
                ask.acquire()
                try:
                    line: str | None = input("you> ")
                except (EOFError, OSError):
                    line = None
                try:
                    loop.call_soon_threadsafe(lines.put_nowait, line)
                except RuntimeError:  # the loop is gone: the chat is over
                    return
                if line is None:
                    return

        threading.Thread(target=read, name="terminal-input", daemon=True).start()
        return lines, ask

    def to_inbound(self, line: str) -> Inbound:
        """Translate one typed line."""
        text = line.strip()
        event_id = uuid.uuid4().hex
        if text.startswith(AGENT_PREFIX) or text == AGENT_PREFIX.strip():
            agent_id, agent_name = self._agent
            return Inbound(
                kind=InboundKind.COMMAND,
                event_id=event_id,
                channel=AGENTS_CHANNEL,
                user_id=agent_id,
                user_name=agent_name,
                text=text[len(AGENT_PREFIX) :].strip(),
                is_direct=False,
            )
        customer_id, customer_name = self._customer
        if text.isdigit() and 1 <= int(text) <= len(self._choices):
            verb, case, arg = split_payload(self._choices[int(text) - 1].payload)
            self._choices = ()
            return Inbound(
                kind=InboundKind.ACTION,
                event_id=event_id,
                channel=CUSTOMER_CHANNEL,
                user_id=customer_id,
                user_name=customer_name,
                action=verb,
                value=f"{case}:{arg}",
            )
        return Inbound(
            kind=InboundKind.MESSAGE,
            event_id=event_id,
            channel=CUSTOMER_CHANNEL,
            user_id=customer_id,
            user_name=customer_name,
            text=line,
        )
