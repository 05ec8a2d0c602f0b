"""The outbox sender: delivers outbox rows through the platform channels, at least once and in
order per conversation, however many senders (processes) run.

- **One sender per conversation.** A sender takes a lease on a conversation (``outbox_leases``)
  before sending any of its rows, and only ever sends the conversation's head — its oldest
  pending row — so a row never goes out while an earlier one of its conversation waits.
- **Only its own platforms.** A sender looks only at rows for platforms it has channels for; a
  process without a platform's token leaves those rows to the process that has it.
- **Retries span an outage.** Capped exponential backoff with jitter (or the platform's
  ``retry_after``) for ``RetryPolicy.give_up_after`` since the first failure, then the row is
  parked (kept for ``helpdesk outbox retry``). Permanent failures are parked at once and never
  block the rows after them. Every send has a timeout; a timeout is retried.
- **Delivers what this process just queued at once.** A committed transaction hands its
  conversations to ``deliver()``, which serves each on a task of its own (at most
  ``DIRECT_AT_ONCE`` at a time) while the run loop runs: no look over every pending row first,
  and one conversation's slow platform does not hold up another's answer.
- **Sleeps until the next due head.** Woken by new rows (``wake()``) and by retries scheduled
  on a direct delivery; otherwise it waits for the earliest head-of-conversation row to fall
  due — rows behind a waiting head are not due — or ``POLL_SECONDS`` at most, for rows other
  processes queued.
- **Tells the agent.** A row whose payload carries ``notify`` (an agent's reply to case N) writes
  a line to the case thread, in the same transaction, when it is delivered, parked, or finds the
  customer unreachable. The words come with the row (``bot.dialogs.replies`` wrote them).

``policy`` holds the retry schedule, ``outcomes`` what is written beside a row's outcome.

A duplicate is still possible: when the platform accepted a message but the process died (or
the send timed out) before the commit recorded it, the row is sent again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.commands import render_hints
from bot.delivery.outcomes import (
    is_unreachable,
    lookup_ref,
    mark_unreachable,
    park,
    queued_here,
    remember_ref,
    tell_agents,
)
from bot.delivery.policy import RetryPolicy
from bot.errors import PermanentSendError, RetryableSendError
from bot.logs import about
from bot.messages import Channel, ChannelRef, Outbound, OutboundKind
from bot.metrics import OUTBOX_SENDS
from bot.storage.models import OutboxLease, OutboxMessage
from bot.storage.outbox import PENDING, SENT, release_lease, take_lease
from bot.storage.threads import remember_line

logger = logging.getLogger(__name__)

__all__ = ["LEASE", "POLL_SECONDS", "OutboxSender", "RetryPolicy", "wait_for_wakeup"]

SEND_TIMEOUT_SECONDS = 30.0
# Longer than any send may take (the timeout above), so a live sender never loses its lease.
LEASE = timedelta(minutes=2)
# Rows queued by another process (a scheduler without tokens, ``helpdesk outbox retry``) wake
# no one here: look at least this often.
POLL_SECONDS = 15.0
# Conversations delivered at once on the direct path; the rest wait for a turn.
DIRECT_AT_ONCE = 16

Waiter = Callable[[asyncio.Event, float | None], Awaitable[None]]


async def wait_for_wakeup(event: asyncio.Event, seconds: float | None) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout=seconds)


class OutboxSender:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        channels: Mapping[str, Channel],
        clock: Clock,
        batch_size: int = 100,
        policy: RetryPolicy | None = None,
        send_timeout: float = SEND_TIMEOUT_SECONDS,
        rng: random.Random | None = None,
        waiter: Waiter = wait_for_wakeup,
        name: str | None = None,
    ) -> None:
        self._sessions = sessions
        self._channels = channels
        self._clock = clock
        self._batch_size = batch_size
        self._policy = policy or RetryPolicy()
        self._send_timeout = send_timeout
        self._rng = rng or random.Random()
        self._wait = waiter
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._running = False
        self._serving: dict[str, _Turns] = {}
        self._direct: set[asyncio.Task[None]] = set()
        self._direct_slots = asyncio.Semaphore(DIRECT_AT_ONCE)

    def wake(self) -> None:
        self._wakeup.set()

    def deliver(self, conversations: set[str]) -> None:
        """Deliver the rows a transaction just queued for ``conversations`` now, each on a task
        of its own. Only while the run loop runs (a one-off command's sender leaves them to
        ``drain()``); rows for platforms this process has no channel for are left to theirs.

        The lease is taken here, not in the transaction that queued the rows: a process killed
        between the two would otherwise hold those conversations for ``LEASE`` after a restart
        (``benchmarks/faults_inbox.py`` showed it)."""
        if not self._running or self._stopping:
            self.wake()
            return
        for conversation in conversations:
            if _platform(conversation) not in self._channels:
                continue
            turns = self._serving.setdefault(conversation, _Turns())
            if turns.direct_waiting:  # one already waits for its turn: it will send these too
                continue
            turns.direct_waiting = True
            task = asyncio.create_task(self._deliver_now(conversation, turns))
            self._direct.add(task)
            task.add_done_callback(self._direct.discard)

    async def _deliver_now(self, conversation: str, turns: _Turns) -> None:
        try:
            async with self._direct_slots:
                await self._serve(conversation, direct=True)
        except Exception:  # the rows wait in the database: the run loop tries again
            logger.exception("direct delivery to %s failed; the run loop retries", conversation)
            self.wake()
        finally:
            if turns.direct_waiting:  # it never had its turn (cancelled): none waits now
                turns.direct_waiting = False
                if not turns.wanted and self._serving.get(conversation) is turns:
                    del self._serving[conversation]

    async def drain(self) -> int:
        """Send every row that is due now, in order; returns how many were delivered."""
        await self.wait_direct()  # what was handed to ``deliver`` goes first
        return await self._drain_due()

    async def wait_direct(self) -> None:
        """Until the direct deliveries under way (and those they started) are done."""
        while self._direct:
            await asyncio.gather(*self._direct, return_exceptions=True)

    async def _drain_due(self) -> int:
        delivered = 0
        while True:
            sent, progressed = await self._pass()
            delivered += sent
            if not progressed:
                return delivered

    async def run(self) -> None:
        """Deliver until ``stop()``: drain, then wait for a wake-up or the next due head."""
        self._running = True
        try:
            await self._run()
        finally:
            self._running = False
            await self.wait_direct()  # deliveries under way finish their row

    async def _run(self) -> None:
        while not self._stopping:
            self._wakeup.clear()
            try:
                await self._drain_due()
                due = await self.seconds_to_next_due()
            except Exception:  # the database went away: the rows wait there, try again later
                logger.exception("outbox delivery failed; trying again in %ss", POLL_SECONDS)
                due = POLL_SECONDS
            if self._stopping:
                return
            await self._wait(self._wakeup, POLL_SECONDS if due is None else min(due, POLL_SECONDS))

    def stop(self) -> None:
        self._stopping = True
        self._wakeup.set()

    async def seconds_to_next_due(self) -> float | None:
        """Until the earliest head-of-conversation row is due (None: nothing pending here)."""
        heads = await self._heads()
        if not heads:
            return None
        return max(0.0, (min(due for _, due in heads) - self._clock.now()).total_seconds())

    async def _heads(self) -> list[tuple[str, datetime]]:
        """Each conversation with pending rows for our platforms, with when its head is due —
        not before another sender's lease on it runs out."""
        if not self._channels:
            return []
        first = (
            select(OutboxMessage.conversation, func.min(OutboxMessage.id).label("head"))
            .where(
                OutboxMessage.status == PENDING, OutboxMessage.platform.in_(list(self._channels))
            )
            .group_by(OutboxMessage.conversation)
            .subquery()
        )
        query = (
            select(
                OutboxMessage.conversation,
                OutboxMessage.next_attempt_at,
                OutboxLease.expires_at,
                OutboxMessage.id,
            )
            .join(first, OutboxMessage.id == first.c.head)
            .outerjoin(
                OutboxLease,
                and_(
                    OutboxLease.conversation == OutboxMessage.conversation,
                    OutboxLease.owner != self.name,
                ),
            )
        )
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        # oldest first among those due together, so a burst goes out in the order it was queued
        rows = sorted(rows, key=lambda r: (max(r[1], r[2]) if r[2] else r[1], r[3]))
        return [(c, max(due, leased) if leased else due) for c, due, leased, _ in rows]

    async def _pass(self) -> tuple[int, bool]:
        now = self._clock.now()
        due = [c for c, at in await self._heads() if at <= now][: self._batch_size]
        sent, progressed = 0, False
        for conversation in due:
            conversation_sent, conversation_progressed = await self._serve(conversation)
            sent += conversation_sent
            progressed = progressed or conversation_progressed
        return sent, progressed

    async def _serve(self, conversation: str, *, direct: bool = False) -> tuple[int, bool]:
        """Under a lease, send the conversation's rows head first until one has to wait.

        The lease keeps other senders off the conversation, but this sender's own drains (the
        run loop, a caller's ``drain()``) share its name and so its lease: they take turns on
        a conversation here, or two could send the same row (SQLite has no row locks).
        ``direct``: a delivery handed over by ``deliver``, which stops waiting for its turn to
        count as one when its turn comes (from then on it may miss a newer row)."""
        turns = self._serving.setdefault(conversation, _Turns())
        turns.wanted += 1
        try:
            async with turns.lock:
                if direct:
                    turns.direct_waiting = False
                with about(conversation=conversation, platform=_platform(conversation)):
                    return await self._serve_about(conversation)
        finally:
            turns.wanted -= 1
            if not turns.wanted:  # nobody else waits: forget it (the map must not grow forever)
                del self._serving[conversation]

    async def _serve_about(self, conversation: str) -> tuple[int, bool]:
        if not await self._lease(conversation):
            return 0, False
        sent, progressed, outcome, holding = 0, False, "", True
        try:
            while holding:
                # each row's transaction also extends the lease for the next row, or gives it
                # up when the conversation has nothing more to send now
                outcome, holding = await self._deliver_head(conversation)
                if outcome in ("sent", "retry", "parked"):  # committed: count it
                    OUTBOX_SENDS.labels(platform=_platform(conversation), outcome=outcome).inc()
                if outcome == "retry":  # the run loop sleeps until the retry falls due
                    self.wake()
                if outcome not in ("sent", "parked"):
                    break
                sent += outcome == "sent"
                progressed = True
        finally:
            if holding:  # an error (or a lease lost) left it: give it up on its own
                async with self._sessions.begin() as session:
                    await release_lease(session, conversation, self.name)
        if outcome == "idle" and not progressed:
            # a row another process queued while we held the lease saw it taken and went to
            # sleep: look once more now that it is free
            progressed = await self._head_is_due(conversation)
        return sent, progressed

    async def _head_is_due(self, conversation: str) -> bool:
        async with self._sessions() as session:
            due = await session.scalar(
                select(OutboxMessage.next_attempt_at)
                .where(OutboxMessage.conversation == conversation, OutboxMessage.status == PENDING)
                .order_by(OutboxMessage.id)
                .limit(1)
            )
        return due is not None and due <= self._clock.now()

    async def _lease(self, conversation: str) -> bool:
        async with self._sessions.begin() as session:
            return await take_lease(session, conversation, self.name, self._clock.now(), LEASE)

    async def _deliver_head(self, conversation: str) -> tuple[str, bool]:
        """Deliver the conversation's head row; returns the outcome and whether the lease is
        still ours. In the same transaction as the row's outcome: the lease extended when
        another row waits behind it, released otherwise — one commit per row."""
        async with self._sessions() as session, session.begin():
            outcome = await self._deliver_head_in(session, conversation)
            queued = queued_here(session)  # the agents' line about this outcome
            pending = outcome in ("sent", "parked") and await self._has_pending(
                session, conversation
            )
            if pending:
                now = self._clock.now()
                holding = await take_lease(session, conversation, self.name, now, LEASE)
            else:
                await release_lease(session, conversation, self.name)
                holding = False
        if queued:
            self.deliver(queued)
        return outcome, holding

    @staticmethod
    async def _has_pending(session: AsyncSession, conversation: str) -> bool:
        """Whether the conversation has another row waiting (the one just sent is flushed)."""
        query = select(OutboxMessage.id).where(
            OutboxMessage.conversation == conversation, OutboxMessage.status == PENDING
        )
        return await session.scalar(query.limit(1)) is not None

    async def _deliver_head_in(self, session: AsyncSession, conversation: str) -> str:
        row = await session.scalar(
            select(OutboxMessage)
            .where(OutboxMessage.conversation == conversation, OutboxMessage.status == PENDING)
            .order_by(OutboxMessage.id)
            .limit(1)
            .with_for_update()
        )
        now = self._clock.now()
        if row is None or row.next_attempt_at > now:
            return "idle"
        if await is_unreachable(session, row.payload["channel"]):
            park(session, row, "recipient unreachable (blocked the bot)", "unreachable", now)
            return "parked"
        try:
            outbound = await self._resolve(session, row.payload)
            async with asyncio.timeout(self._send_timeout):
                ref = await self._channels[row.platform].send(outbound)
        except TimeoutError:
            return self._retry_later(
                session, row, now, f"send timed out after {self._send_timeout:g}s", None
            )
        except RetryableSendError as exc:
            return self._retry_later(session, row, now, str(exc), exc.retry_after)
        except PermanentSendError as exc:
            logger.error("outbox row %s parked: %s", row.id, exc)
            row.attempts += 1
            park(session, row, str(exc), "unreachable" if exc.recipient_gone else "failed", now)
            if exc.recipient_gone:
                await mark_unreachable(session, row.payload["channel"], now)
            return "parked"
        except Exception as exc:  # an adapter bug or an unclassified error: retry, bounded
            logger.exception("outbox row %s failed", row.id)
            return self._retry_later(session, row, now, f"{type(exc).__name__}: {exc}", None)
        row.status, row.sent_at, row.attempts = SENT, now, row.attempts + 1
        row.sent_ref, row.failing_since = ref.to_dict(), None
        if row.ref_key:
            await remember_ref(session, row.ref_key, ref, now)
        if row.payload.get("thread_key"):  # a reply to this line must find its thread
            await remember_line(session, row.payload["thread_key"], ref, now)
        tell_agents(session, row, "delivered", now)
        return "sent"

    def _retry_later(
        self,
        session: AsyncSession,
        row: OutboxMessage,
        now: datetime,
        error: str,
        retry_after: float | None,
    ) -> str:
        row.attempts += 1
        row.failing_since = row.failing_since or now
        if now - row.failing_since >= self._policy.give_up_after:
            logger.error("outbox row %s parked after %s attempts: %s", row.id, row.attempts, error)
            park(session, row, error, "failed", now)
            return "parked"
        row.last_error = error[:2000]
        delay = self._policy.delay(row.attempts, retry_after, self._rng)
        row.next_attempt_at = now + timedelta(seconds=delay)
        logger.warning("outbox row %s retry in %.1fs: %s", row.id, delay, error)
        return "retry"

    async def _resolve(self, session: AsyncSession, payload: dict[str, Any]) -> Outbound:
        """Turn a stored payload into an Outbound, resolving ref keys to platform ids."""
        outbound = Outbound.from_dict(payload)
        # the bot's command hints, in the form that works where this message goes
        outbound = replace(outbound, text=render_hints(outbound.text, outbound.channel.platform))
        edit_key, thread_key = payload.get("edit_key"), payload.get("thread_key")
        if edit_key:
            ref = await lookup_ref(session, edit_key)
            if ref is None:
                raise PermanentSendError(f"nothing to edit: {edit_key} was never delivered")
            outbound = replace(outbound, kind=OutboundKind.EDIT, edit_of=ref)
        if thread_key:
            ref = await lookup_ref(session, thread_key)
            if ref is not None:
                thread = ref.thread or ref.message_id
                outbound = replace(outbound, channel=outbound.channel.in_thread(thread))
        return outbound


@dataclass
class _Turns:
    """A conversation this sender is serving: its drains take turns on it."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    wanted: int = 0  # drains serving it or waiting to
    # a direct delivery is handed over and has not had its turn yet: a busy conversation (the
    # agents' channel) needs one more delivery after the current one, not one per new row
    direct_waiting: bool = False


def _platform(conversation: str) -> str:
    return ChannelRef.parse(conversation).platform
