"""Intake: the one entry point for every inbound, and its error boundary.

inbox (dedupe) → claim → customer dialog or agent desk, whose transaction also marks the row
done → next row of the same conversation. So an inbound is handled exactly once:

- its effects and its "done" mark commit together (the unit of work handed to the dialog or the
  desk marks the claimed row before it commits), so a crash in between re-handles nothing;
- a row is claimed (lease) before it is handled, so neither a second process nor this one's
  recovery takes a row already in hand; a lease that runs out makes the row claimable again;
- a conversation's rows are handled one at a time, in arrival order, by whichever process
  holds its oldest unfinished row;
- an inbound an adapter stored before looking anything up (``needs_completion``: Slack's
  acknowledgement must not wait on its API) is completed by that adapter just before it is
  handled; a look-up that fails is a failure like any other, retried;
- a failure is logged with its traceback and retried with backoff; after the last attempt the
  row is kept as failed with its error and the person gets a kind sentence, never exception
  text. ``helpdesk inbox list|retry`` shows and requeues failed rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.dialogs import replies
from bot.dialogs.desk import AgentDesk
from bot.dialogs.engine import DialogEngine
from bot.errors import UserFacingError
from bot.logs import about
from bot.messages import Inbound, InboundCompleter, Outbound
from bot.metrics import ANSWER_SECONDS, INBOUND, INBOX_FAILURES
from bot.storage import inbox
from bot.storage.inbox import Claim, LeaseLost
from bot.storage.uow import UnitOfWork, UnitOfWorkFactory

logger = logging.getLogger(__name__)

DEFAULT_LEASE = timedelta(seconds=30)
# conversations recovered side by side (each one in order)
RECOVERY_WIDTH = 16


@dataclass(frozen=True)
class RetryPolicy:
    """Failed inbounds: ``max_attempts`` in all, waiting ``first_delay`` × ``factor``ⁿ
    (at most ``max_delay``) between them; 5 attempts span about a minute and a half."""

    max_attempts: int = 5
    first_delay: timedelta = timedelta(seconds=2)
    factor: float = 3.0
    max_delay: timedelta = timedelta(minutes=1)

    def delay(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failed attempt."""
        return min(self.first_delay * self.factor ** max(0, attempts - 1), self.max_delay)


def process_owner() -> str:
    """Who holds a claim: host, process and a per-instance suffix (two Intakes in one process
    are two owners)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class _Marking:
    """Unit-of-work factory for one claimed inbound: its first commit also marks the row done,
    inside the same transaction; later commits of the handling mark nothing again."""

    def __init__(self, factory: UnitOfWorkFactory, claim: Claim, clock: Clock) -> None:
        self._factory = factory
        self._claim = claim
        self._clock = clock
        self.marked = False

    def __call__(self) -> UnitOfWork:
        uow = self._factory()
        uow.before_commit(self._mark)
        uow.after_commit(self._committed)
        return uow

    async def _mark(self, uow: UnitOfWork) -> None:
        if not self.marked:
            await inbox.mark_done(uow.session, self._claim, self._clock.now())

    def _committed(self) -> None:
        self.marked = True


class Intake:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        uow_factory: UnitOfWorkFactory,
        engine: DialogEngine,
        desk: AgentDesk,
        agent_channels: set[str],
        clock: Clock,
        owner: str | None = None,
        lease: timedelta = DEFAULT_LEASE,
        retry: RetryPolicy | None = None,
        concurrency: int = 32,
        completers: Mapping[str, InboundCompleter] | None = None,
    ) -> None:
        self._sessions = sessions
        self._uow_factory = uow_factory
        self._engine = engine
        self._desk = desk
        self._agent_channels = agent_channels
        self._clock = clock
        self.owner = owner or process_owner()
        self._lease = lease
        self._retry = retry or RetryPolicy()
        # per platform: how an inbound stored before its look-ups is completed for handling
        self._completers = dict(completers or {})
        # one drain per conversation in this process; ``_again`` asks a running one for a lap
        self._drains: dict[str, asyncio.Task[int]] = {}
        self._again: set[str] = set()
        self._wakeup = asyncio.Event()
        self._stopping = False
        # rows in hand at once: a conversation waiting its turn holds no database connection,
        # so a burst of customers never drains the pool that storing arrivals needs
        self._slots = asyncio.Semaphore(concurrency)
        self.most_in_hand = 0  # the most rows handled side by side so far
        self._in_hand = 0

    async def receive(self, inbound: Inbound) -> bool:
        """Store and process one inbound (and any earlier ones of its conversation). False when
        it was a redelivery (already stored)."""
        conversation = await self._record(inbound)
        if conversation is None:
            return False
        await self._kick(conversation)
        return True

    async def accept(self, inbound: Inbound) -> bool:
        """Store the inbound and process it in the background: what an adapter calls before it
        acknowledges the platform (Slack wants an answer within 3 s). Once stored, a crash loses
        nothing: ``recover`` picks it up on the next start."""
        conversation = await self._record(inbound)
        if conversation is None:
            return False
        self._kick(conversation)
        return True

    async def wait_idle(self) -> None:
        """Wait until every conversation this process is handling has no row left in hand."""
        while self._drains:
            await asyncio.gather(*list(self._drains.values()), return_exceptions=True)

    async def recover(self) -> int:
        """Handle every row that can be claimed now: stored before a crash and never handled,
        whose retry fell due, or whose holder's lease ran out. Rows that this or another live
        process holds are left alone. Returns how many were handled."""
        handled = 0
        while not self._stopping:
            candidates = await inbox.claimable_conversations(
                self._sessions, self._clock.now(), RECOVERY_WIDTH
            )
            fresh = [c for c in candidates if c not in self._drains]
            if not fresh:
                break
            lap = sum(await asyncio.gather(*(self._kick(c) for c in fresh)))
            handled += lap
            if lap == 0:  # the rows went to another process meanwhile
                break
        return handled

    async def run(self) -> None:
        """Until ``stop()``: recover what falls due (retries, expired leases), then wait for the
        next due time or a wake-up."""
        while not self._stopping:
            self._wakeup.clear()
            try:
                await self.recover()
                due = await inbox.next_due(self._sessions)
            except Exception:  # e.g. the database restarting: try again after a lease
                logger.exception("inbox recovery failed; trying again")
                due = self._clock.now() + self._lease
            timeout = None if due is None else max(0.0, (due - self._clock.now()).total_seconds())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout=timeout)

    def stop(self) -> None:
        self._stopping = True
        self._wakeup.set()

    async def _record(self, inbound: Inbound) -> str | None:
        conversation = await self._conversation_of(inbound)
        row_id = await inbox.record(
            self._sessions, inbound, self._clock.now(), conversation=conversation
        )
        if row_id is None:
            logger.info("duplicate event %s:%s ignored", inbound.platform, inbound.event_id)
            return None
        INBOUND.labels(platform=inbound.platform, kind=inbound.kind.value).inc()
        return conversation

    async def _conversation_of(self, inbound: Inbound) -> str:
        """The key that orders handling: the customer's conversation. An agent's line about a
        case (in its thread, on its buttons, naming it) is ordered with that case's customer
        conversation, so a transcript never shows a reply before the lines that came first."""
        if not self._is_agent_side(inbound):
            return str(inbound.channel)
        try:
            conversation = await self._desk.case_conversation(inbound)
        except Exception:  # ordering is best effort here; handling reports real errors
            logger.exception("could not find the case of %s:%s", inbound.platform, inbound.event_id)
            conversation = None
        return conversation or str(inbound.channel)

    def _is_agent_side(self, inbound: Inbound) -> bool:
        return str(inbound.channel.without_thread) in self._agent_channels

    def _kick(self, conversation: str) -> asyncio.Task[int]:
        """Make sure this process drains ``conversation``; the task handles its rows in order."""
        task = self._drains.get(conversation)
        if task is not None and not task.done():
            self._again.add(conversation)
            return task
        task = asyncio.create_task(self._drain(conversation))
        self._drains[conversation] = task
        task.add_done_callback(lambda done: self._forget(conversation, done))
        return task

    def _forget(self, conversation: str, task: asyncio.Task[int]) -> None:
        if self._drains.get(conversation) is task:
            del self._drains[conversation]

    async def _drain(self, conversation: str) -> int:
        handled = 0
        while not self._stopping:  # a stopping process finishes the row in hand, no more
            async with self._slots:
                outcome = await self._next_row(conversation)
            if outcome is None:
                return handled
            handled += outcome
        return handled

    async def _next_row(self, conversation: str) -> int | None:
        """Claim and handle the conversation's next row: 1 when one was handled, 0 to look
        again, None when the conversation has nothing more (or could not be claimed)."""
        self._in_hand += 1
        self.most_in_hand = max(self.most_in_hand, self._in_hand)
        try:
            self._again.discard(conversation)
            try:
                claim = await inbox.claim_next(
                    self._sessions,
                    conversation,
                    owner=self.owner,
                    now=self._clock.now(),
                    lease=self._lease,
                )
            except Exception:  # the row stays pending; the run loop comes back to it
                logger.exception("could not claim the next inbound of %s", conversation)
                return None
            if claim is None:
                return 0 if conversation in self._again else None  # a row arrived as we looked
            await self._holding(claim, self._handle(claim))
            return 1
        finally:
            self._in_hand -= 1

    async def _holding(self, claim: Claim, work: Awaitable[None]) -> None:
        """Run ``work`` while renewing the claim's lease, so a slow handler keeps its row."""
        heartbeat = asyncio.create_task(self._heartbeat(claim))
        try:
            await work
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    async def _heartbeat(self, claim: Claim) -> None:
        while True:
            await asyncio.sleep(self._lease.total_seconds() / 3)
            try:
                if not await inbox.renew(self._sessions, claim, self._clock.now() + self._lease):
                    logger.warning("lost the claim on inbox row %s", claim.row_id)
                    return
            except Exception:
                logger.exception("could not renew the claim on inbox row %s", claim.row_id)

    async def _handle(self, claim: Claim) -> None:
        with about(conversation=claim.conversation, platform=claim.inbound.platform):
            await self._handle_about(claim)

    async def _handle_about(self, claim: Claim) -> None:
        inbound = claim.inbound
        if claim.attempts > self._retry.max_attempts:  # its handlers died holding it, each time
            await self._give_up(claim, "abandoned: the process handling it stopped each time")
            return
        marking = _Marking(self._uow_factory, claim, self._clock)
        started = time.perf_counter()
        try:
            inbound = await self._completed(inbound)
            await self._route(inbound, marking)
        except LeaseLost:
            logger.warning("inbox row %s was taken over; its work here rolled back", claim.row_id)
            return
        except UserFacingError as exc:  # its own transaction rolled back: answer, mark done
            await self._conclude(claim, tell=exc.safe_message)
            return
        except Exception as exc:  # the boundary: log it, retry later, or keep it as failed
            logger.exception("failed to handle %s:%s", inbound.platform, inbound.event_id)
            await self._failed(claim, f"{type(exc).__name__}: {exc}")
            return
        if not marking.marked:  # the handler changed nothing (chatter): the mark alone
            await self._conclude(claim)
        side = "agent" if self._is_agent_side(inbound) else "customer"
        ANSWER_SECONDS.labels(side=side).observe(time.perf_counter() - started)

    async def _completed(self, inbound: Inbound) -> Inbound:
        """The inbound as the adapter completes it now (name, groups, plain text); a look-up
        that fails raises, and the row is retried by the retry policy."""
        if not inbound.needs_completion:
            return inbound
        completer = self._completers.get(inbound.platform)
        if completer is None:  # a process without that adapter: handled as it was stored
            logger.warning("no %s adapter here to complete %s", inbound.platform, inbound.event_id)
            return inbound
        return await completer(inbound)

    async def _route(self, inbound: Inbound, marking: UnitOfWorkFactory) -> None:
        if self._is_agent_side(inbound):
            await self._desk.handle(inbound, uow_factory=marking)
        else:
            await self._engine.handle(inbound, uow_factory=marking)

    async def _failed(self, claim: Claim, error: str) -> None:
        if claim.attempts >= self._retry.max_attempts:
            await self._give_up(claim, error)
            return
        at = self._clock.now() + self._retry.delay(claim.attempts)
        try:
            if await inbox.retry_later(self._sessions, claim, at, error):
                INBOX_FAILURES.labels(outcome="retry").inc()
                self._wakeup.set()  # the run loop sleeps until the earliest retry
        except Exception:  # the lease runs out and the row is retried anyway
            logger.exception("could not schedule a retry of inbox row %s", claim.row_id)

    async def _give_up(self, claim: Claim, error: str) -> None:
        logger.error(
            "inbox row %s failed for good after %s attempts: %s",
            claim.row_id,
            claim.attempts,
            error,
        )
        await self._conclude(claim, tell=replies.UNKNOWN_ERROR, error=error)

    async def _conclude(
        self, claim: Claim, *, tell: str | None = None, error: str | None = None
    ) -> None:
        """One transaction: the sentence for the person (if any) and the row's final mark."""
        try:
            async with self._uow_factory() as uow:
                if tell is not None:
                    uow.send(Outbound(channel=claim.inbound.channel, text=tell))
                now = self._clock.now()
                if error is None:
                    await inbox.mark_done(uow.session, claim, now)
                else:
                    await inbox.mark_failed(uow.session, claim, now, error)
                await uow.commit()
            if error is not None:
                INBOX_FAILURES.labels(outcome="failed").inc()
        except LeaseLost:
            logger.warning("inbox row %s was taken over before it was concluded", claim.row_id)
        except Exception:  # the lease runs out and the row is tried again
            logger.exception("could not conclude inbox row %s", claim.row_id)
