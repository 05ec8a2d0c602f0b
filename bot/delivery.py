"""The outbox sender: delivers outbox rows through the platform channels.

- Per-conversation order: a row is never sent while an earlier row of the same conversation is
  still waiting (a message delayed by a 429 is not overtaken).
- Retries with exponential backoff (or the platform's ``retry_after``); permanent failures are
  parked with their error, never retried and never blocking the rows after them.
- Edits and thread replies name an earlier message by key ("case:12:post"); the key is resolved
  to the platform's ids at send time, once that message has been delivered.
- Woken by new rows (``wake()``), not by polling sleeps; on PostgreSQL rows are taken with
  ``FOR UPDATE SKIP LOCKED`` so several senders share the work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.commands import render_hints
from bot.errors import PermanentSendError, RetryableSendError
from bot.messages import Channel, Outbound, OutboundKind, SentRef
from bot.storage.models import DialogSession, OutboxMessage, SentRefRecord
from bot.storage.threads import remember_line

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BASE_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 300.0


class OutboxSender:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        channels: Mapping[str, Channel],
        clock: Clock,
        batch_size: int = 100,
    ) -> None:
        self._sessions = sessions
        self._channels = channels
        self._clock = clock
        self._batch_size = batch_size
        self._wakeup = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        self._wakeup.set()

    async def drain(self) -> int:
        """Send every row that is due now, in order; returns how many were delivered."""
        delivered = 0
        while True:
            sent, progressed = await self._pass()
            delivered += sent
            if not progressed:
                return delivered

    async def run(self) -> None:
        """Deliver until ``stop()``: drain, then wait for a wake-up or the next due retry."""
        while not self._stopping:
            self._wakeup.clear()
            await self.drain()
            timeout = await self._seconds_to_next_due()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout=timeout)

    def stop(self) -> None:
        self._stopping = True
        self._wakeup.set()

    async def _seconds_to_next_due(self) -> float | None:
        async with self._sessions() as session:
            due = await session.scalar(
                select(OutboxMessage.next_attempt_at)
                .where(OutboxMessage.status == "pending")
                .order_by(OutboxMessage.next_attempt_at)
                .limit(1)
            )
        if due is None:
            return None
        return max(0.0, (due - self._clock.now()).total_seconds())

    async def _pass(self) -> tuple[int, bool]:
        async with self._sessions() as session:
            ids = list(
                await session.scalars(
                    select(OutboxMessage.id)
                    .where(OutboxMessage.status == "pending")
                    .order_by(OutboxMessage.id)
                    .limit(self._batch_size)
                )
            )
            # customers who blocked the bot: one query per pass, not one per row
            unreachable = set(
                await session.scalars(
                    select(DialogSession.conversation).where(DialogSession.blocked_at.is_not(None))
                )
            )
        blocked: set[str] = set()
        sent = 0
        progressed = False
        for row_id in ids:
            outcome = await self._deliver_one(row_id, blocked, unreachable)
            if outcome == "sent":
                sent += 1
                progressed = True
            elif outcome == "parked":
                progressed = True
        return sent, progressed

    async def _deliver_one(self, row_id: int, blocked: set[str], unreachable: set[str]) -> str:
        async with self._sessions() as session, session.begin():
            row = await session.scalar(
                select(OutboxMessage)
                .where(OutboxMessage.id == row_id, OutboxMessage.status == "pending")
                .with_for_update(skip_locked=True)
            )
            if row is None or row.conversation in blocked:
                return "skipped"
            now = self._clock.now()
            if row.payload["channel"] in unreachable:
                row.status, row.last_error = "parked", "recipient unreachable (blocked the bot)"
                return "parked"
            if row.next_attempt_at > now:
                blocked.add(row.conversation)
                return "waiting"
            try:
                outbound = await self._resolve(session, row.payload)
                channel = self._channels.get(row.platform)
                if channel is None:
                    raise PermanentSendError(f"no channel configured for platform {row.platform!r}")
                ref = await channel.send(outbound)
            except RetryableSendError as exc:
                self._retry_later(row, now, exc)
                blocked.add(row.conversation)
                return "retry"
            except PermanentSendError as exc:
                logger.error("outbox row %s parked: %s", row.id, exc)
                row.status, row.last_error = "parked", str(exc)[:2000]
                row.attempts += 1
                if exc.recipient_gone:
                    unreachable.add(row.payload["channel"])
                    await _mark_unreachable(session, row.payload["channel"], now)
                return "parked"
            except Exception as exc:  # an adapter bug or an unclassified error: retry, bounded
                logger.exception("outbox row %s failed", row.id)
                self._retry_later(row, now, RetryableSendError(f"{type(exc).__name__}: {exc}"))
                blocked.add(row.conversation)
                return "retry"
            row.status, row.sent_at, row.attempts = "sent", now, row.attempts + 1
            row.sent_ref = ref.to_dict()
            if row.ref_key:
                await _remember_ref(session, row.ref_key, ref, now)
            if row.payload.get("thread_key"):  # a reply to this line must find its thread
                await remember_line(session, row.payload["thread_key"], ref, now)
            return "sent"

    def _retry_later(self, row: OutboxMessage, now: datetime, exc: RetryableSendError) -> None:
        row.attempts += 1
        row.last_error = str(exc)[:2000]
        if row.attempts >= MAX_ATTEMPTS:
            logger.error("outbox row %s parked after %s attempts: %s", row.id, row.attempts, exc)
            row.status = "parked"
            return
        delay = exc.retry_after
        if delay is None:
            delay = min(MAX_BACKOFF_SECONDS, BASE_BACKOFF_SECONDS * 2 ** (row.attempts - 1))
        row.next_attempt_at = now + timedelta(seconds=delay)
        logger.warning("outbox row %s retry in %.1fs: %s", row.id, delay, exc)

    async def _resolve(self, session: AsyncSession, payload: dict[str, Any]) -> Outbound:
        """Turn a stored payload into an Outbound, resolving ref keys to platform ids."""
        outbound = Outbound.from_dict(payload)
        # the bot's command hints, in the form that works where this message goes
        outbound = replace(outbound, text=render_hints(outbound.text, outbound.channel.platform))
        edit_key, thread_key = payload.get("edit_key"), payload.get("thread_key")
        if edit_key:
            ref = await _lookup_ref(session, edit_key)
            if ref is None:
                raise PermanentSendError(f"nothing to edit: {edit_key} was never delivered")
            outbound = replace(outbound, kind=OutboundKind.EDIT, edit_of=ref)
        if thread_key:
            ref = await _lookup_ref(session, thread_key)
            if ref is not None:
                thread = ref.thread or ref.message_id
                outbound = replace(outbound, channel=outbound.channel.in_thread(thread))
        return outbound


async def _lookup_ref(session: AsyncSession, key: str) -> SentRef | None:
    record = await session.get(SentRefRecord, key)
    return SentRef.from_dict(record.ref) if record else None


async def _remember_ref(session: AsyncSession, key: str, ref: SentRef, now: datetime) -> None:
    record = await session.get(SentRefRecord, key)
    thread = ref.thread or ref.message_id
    message_key = f"{ref.platform}:{ref.channel}/{thread}"
    if record is None:
        session.add(
            SentRefRecord(key=key, ref=ref.to_dict(), message_key=message_key, updated_at=now)
        )
    else:
        record.ref, record.message_key, record.updated_at = ref.to_dict(), message_key, now


async def _mark_unreachable(session: AsyncSession, conversation: str, now: datetime) -> None:
    """The customer blocked the bot: stop sending there until they write again."""
    await session.execute(
        update(DialogSession)
        .where(DialogSession.conversation == conversation)
        .values(blocked_at=now)
    )
    logger.warning("conversation %s is unreachable; further messages are parked", conversation)
