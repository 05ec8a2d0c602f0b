"""One action call's turn: its inbound goes through the same intake as every platform's, and
what the help desk says in reply is collected for the action's response.

The replies are outbox rows like any other. While the call waits, the Rasa channel hands them
to it (``RasaChannel.answering``); this process's own small sender delivers them at once, and
if another sender holds the conversation it waits for that one — for ``wait`` seconds at most,
after which whatever is still queued is pushed through Rasa's API instead: late, never lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import func, select

from bot.adapters.rasa import Answer, RasaChannel, RasaMessage
from bot.bootstrap import HelpDesk
from bot.cases import service as cases
from bot.delivery import OutboxSender
from bot.messages import Inbound
from bot.storage.models import OutboxMessage
from bot.storage.outbox import PENDING

logger = logging.getLogger(__name__)

ANSWER_WAIT = 10.0  # seconds; Rasa's own action timeout is 10 s by default


class RasaTurns:
    def __init__(
        self, *, helpdesk: HelpDesk, channel: RasaChannel, wait: float = ANSWER_WAIT
    ) -> None:
        self._helpdesk = helpdesk
        self._channel = channel
        self._wait = wait
        # its own name, so its leases and the main sender's exclude each other
        self._sender = OutboxSender(
            sessions=helpdesk.sessions, channels={channel.platform: channel}, clock=helpdesk.clock
        )

    async def take(self, inbound: Inbound) -> list[RasaMessage]:
        """Handle ``inbound``; the messages the help desk answered it with."""
        async with self._channel.answering(inbound.channel) as answer:
            if await self._helpdesk.intake.receive(inbound):
                await self._delivered(str(inbound.channel.without_thread), answer)
            else:
                logger.info("action call %s seen before; answered then", inbound.event_id)
        return answer.messages

    async def case_of(self, conversation: str) -> int | None:
        """The conversation's open case (new, open or pending), if it has one."""
        async with self._helpdesk.uow() as uow:
            case = await cases.active_case_for(uow, conversation)
            return case.id if case else None

    async def _delivered(self, conversation: str, answer: Answer) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._wait
        await self._sender.drain()
        while True:
            answer.arrived.clear()  # before looking: a delivery from now on wakes the wait
            if not await self._pending(conversation):
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                logger.warning(
                    "replies to %s not delivered in time; Rasa's API gets them", conversation
                )
                return
            self._helpdesk.sender.wake()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(answer.arrived.wait(), timeout=remaining)
            await self._sender.drain()

    async def _pending(self, conversation: str) -> int:
        async with self._helpdesk.sessions() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(
                    OutboxMessage.conversation == conversation,
                    OutboxMessage.status == PENDING,
                    OutboxMessage.next_attempt_at <= self._helpdesk.clock.now(),
                )
            )
        return int(count or 0)
