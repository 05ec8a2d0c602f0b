"""The outbox sender: order per conversation, retries after a platform's retry-after and
through a long outage, parking of permanent failures, leases between senders, send timeouts —
with a controlled clock, never sleeping."""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.adapters.fake import FakeChannel
from bot.clock import FrozenClock
from bot.delivery import LEASE, POLL_SECONDS, OutboxSender, RetryPolicy
from bot.errors import PermanentSendError, RetryableSendError
from bot.messages import ChannelRef, Outbound, SentRef
from bot.storage.models import OutboxMessage
from bot.storage.outbox import take_lease
from bot.storage.uow import UnitOfWorkFactory


@pytest.fixture
async def fake() -> AsyncIterator[FakeChannel]:
    yield FakeChannel(platform="fake")


def sender_for(
    sessions: async_sessionmaker[AsyncSession], fake: FakeChannel, clock: FrozenClock
) -> OutboxSender:
    return OutboxSender(sessions=sessions, channels={"fake": fake}, clock=clock)


async def queue(uow_factory: UnitOfWorkFactory, *messages: tuple[str, str]) -> None:
    async with uow_factory() as uow:
        for channel, text in messages:
            uow.send(Outbound(channel=ChannelRef.parse(channel), text=text))
        await uow.commit()


async def test_a_429_is_retried_after_retry_after_and_is_not_overtaken(
    sessions: async_sessionmaker[AsyncSession],
    uow_factory: UnitOfWorkFactory,
    clock: FrozenClock,
    fake: FakeChannel,
) -> None:
    await queue(uow_factory, ("fake:a", "first"), ("fake:a", "second"), ("fake:b", "other"))
    fake.failures.append(RetryableSendError("rate limited", retry_after=30))
    sender = sender_for(sessions, fake, clock)
    assert await sender.drain() == 1
    assert fake.texts() == ["other"]  # conversation a waits; b is not held up by it
    clock.advance(seconds=29)
    assert await sender.drain() == 0
    clock.advance(seconds=1)
    assert await sender.drain() == 2
    assert fake.texts() == ["other", "first", "second"]


async def test_a_permanent_failure_is_parked_and_does_not_block_the_rest(
    sessions: async_sessionmaker[AsyncSession],
    uow_factory: UnitOfWorkFactory,
    clock: FrozenClock,
    fake: FakeChannel,
) -> None:
    await queue(uow_factory, ("fake:a", "lost channel"), ("fake:a", "next"))
    fake.failures.append(PermanentSendError("channel_not_found"))
    assert await sender_for(sessions, fake, clock).drain() == 1
    assert fake.texts() == ["next"]
    async with sessions() as s:
        parked = (
            await s.scalars(select(OutboxMessage).where(OutboxMessage.status == "parked"))
        ).one()
    assert parked.last_error == "channel_not_found"
    assert parked.payload["text"] == "lost channel"  # kept, not lost


async def test_an_edit_finds_the_message_it_edits_once_that_is_delivered(
    sessions: async_sessionmaker[AsyncSession],
    uow_factory: UnitOfWorkFactory,
    clock: FrozenClock,
    fake: FakeChannel,
) -> None:
    async with uow_factory() as uow:
        uow.send(
            Outbound(channel=ChannelRef.parse("fake:agents"), text="New case #1"),
            ref_key="case:1:post",
        )
        uow.send(
            Outbound(channel=ChannelRef.parse("fake:agents"), text="in thread"),
            thread_key="case:1:post",
        )
        uow.send(
            Outbound(channel=ChannelRef.parse("fake:agents"), text="claimed"),
            edit_key="case:1:post",
        )
        await uow.commit()
    assert await sender_for(sessions, fake, clock).drain() == 3
    post, reply, edit = fake.sent
    assert post.text == "New case #1"
    assert reply.channel.thread == "1"
    assert edit.edit_of is not None and edit.edit_of.message_id == "1"


async def test_a_customer_who_blocked_the_bot_is_marked_and_not_tried_again(
    sessions: async_sessionmaker[AsyncSession],
    uow_factory: UnitOfWorkFactory,
    clock: FrozenClock,
    fake: FakeChannel,
) -> None:
    from bot.storage.models import Customer, DialogSession

    async with sessions.begin() as s:
        customer = Customer(display_name="Ada", created_at=clock.now())
        s.add(customer)
        await s.flush()
        s.add(
            DialogSession(conversation="fake:dm", customer_id=customer.id, updated_at=clock.now())
        )
    await queue(uow_factory, ("fake:dm", "your case is resolved"), ("fake:dm", "rate us"))
    fake.failures.append(PermanentSendError("blocked by the user", recipient_gone=True))
    assert await sender_for(sessions, fake, clock).drain() == 0
    assert fake.sent == []  # the second message was not even tried
    async with sessions() as s:
        blocked = await s.scalar(select(DialogSession.blocked_at))
        statuses = list(await s.scalars(select(OutboxMessage.status).order_by(OutboxMessage.id)))
    assert blocked is not None
    assert statuses == ["parked", "parked"]  # kept, not lost


# --- several senders, waiting, platforms, outages -------------------------------------------


async def statuses(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessions() as s:
        return list(await s.scalars(select(OutboxMessage.status).order_by(OutboxMessage.id)))


async def test_a_conversation_another_sender_holds_is_left_to_it_until_its_lease_runs_out(
    sessions: async_sessionmaker[AsyncSession],
    uow_factory: UnitOfWorkFactory,
    clock: FrozenClock,
    fake: FakeChannel,
) -> None:
    await queue(uow_factory, ("fake:a", "first"), ("fake:b", "other"))
    async with sessions.begin() as s:
        assert await take_lease(s, "fake:a", "worker-2", clock.now(), LEASE)
    sender = sender_for(sessions, fake, clock)
    assert await sender.drain() == 1
    assert fake.texts() == ["other"]  # a is the other sender's to send
    assert await sender.seconds_to_next_due() == LEASE.total_seconds()  # not 0: no busy loop
    clock.advance(seconds=LEASE.total_seconds())  # worker-2 died without letting go
    assert await sender.drain() == 1
    assert fake.texts() == ["other", "first"]


async def test_waiting_out_a_retry_after_wakes_once_not_in_a_loop(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    uow_factory: UnitOfWorkFactory,
    clock: FrozenClock,
    fake: FakeChannel,
) -> None:
    """Rows queued behind a head that waits out a Retry-After are not due: the sender sleeps
    until the head is, rather than waking (and querying) over and over."""
    await queue(uow_factory, ("fake:a", "first"), ("fake:a", "second"), ("fake:a", "third"))
    fake.failures.append(RetryableSendError("rate limited", retry_after=30))
    statements: list[str] = []
    waits: list[float | None] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    async def waiter(_wakeup: asyncio.Event, seconds: float | None) -> None:
        waits.append(seconds)
        if fake.texts() == ["first", "second", "third"] or len(waits) > 20:
            sender.stop()
            return
        assert seconds is not None
        clock.advance(seconds=seconds)  # the backoff window passes on the fake clock

    sender = OutboxSender(sessions=sessions, channels={"fake": fake}, clock=clock, waiter=waiter)
    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        await sender.run()
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    # through the 30 s window it only looks in every POLL_SECONDS (for other processes' rows)
    assert waits == [POLL_SECONDS, POLL_SECONDS, POLL_SECONDS]
    assert fake.texts() == ["first", "second", "third"]
    assert len(statements) <= 40, len(statements)  # 27 for the whole run; once thousands


async def test_a_sender_without_the_platform_leaves_its_rows_pending_for_one_that_has_it(
    sessions: async_sessionmaker[AsyncSession],
    uow_factory: UnitOfWorkFactory,
    clock: FrozenClock,
    fake: FakeChannel,
) -> None:
    await queue(uow_factory, ("fake:a", "hello"), ("fake:b", "hi"))
    for channels in ({}, {"other": FakeChannel(platform="other")}):  # scheduler, other worker
        bystander = OutboxSender(sessions=sessions, channels=channels, clock=clock)
        assert await bystander.drain() == 0
        assert await bystander.seconds_to_next_due() is None  # nothing here for it
    assert await statuses(sessions) == ["pending", "pending"]  # not parked
    assert await sender_for(sessions, fake, clock).drain() == 2


async def test_retries_span_an_outage_of_hours_then_the_row_is_parked(
    sessions: async_sessionmaker[AsyncSession],
    uow_factory: UnitOfWorkFactory,
    clock: FrozenClock,
    fake: FakeChannel,
) -> None:
    """The default limit is a day (``RetryPolicy``); two hours keeps this test quick."""
    await queue(uow_factory, ("fake:a", "hello"))
    fake.failures.extend(RetryableSendError("503") for _ in range(500))
    policy = RetryPolicy(give_up_after=timedelta(hours=2))
    sender = OutboxSender(
        sessions=sessions, channels={"fake": fake}, clock=clock, policy=policy, rng=random.Random(3)
    )
    start, delays = clock.now(), []
    while True:
        await sender.drain()
        if (wait := await sender.seconds_to_next_due()) is None:
            break
        delays.append(wait)
        if clock.now() - start < timedelta(minutes=3):
            assert await statuses(sessions) == ["pending"]  # the old schedule parked at ~127 s
        clock.advance(seconds=wait)
    assert await statuses(sessions) == ["parked"]
    assert timedelta(hours=2) <= clock.now() - start < timedelta(hours=2, minutes=6)
    assert max(delays) <= 300 and delays[0] <= 2
    assert RetryPolicy().give_up_after == timedelta(hours=24)


async def test_a_hung_send_times_out_and_does_not_hold_up_other_conversations(
    sessions: async_sessionmaker[AsyncSession],
    uow_factory: UnitOfWorkFactory,
    clock: FrozenClock,
) -> None:
    hung = HangingChannel(platform="fake", hang_on="fake:a")
    await queue(uow_factory, ("fake:a", "stuck"), ("fake:b", "fine"))
    # send_timeout=0: any send that has to wait times out at the next turn of the loop
    sender = OutboxSender(sessions=sessions, channels={"fake": hung}, clock=clock, send_timeout=0)
    assert await sender.drain() == 1
    assert hung.texts() == ["fine"]
    async with sessions() as s:
        stuck = await s.scalar(select(OutboxMessage).where(OutboxMessage.conversation == "fake:a"))
    assert stuck is not None and stuck.status == "pending"  # retried later, not lost
    assert stuck.last_error == "send timed out after 0s"
    hung.hang_on = ""
    clock.advance(minutes=1)
    assert await sender.drain() == 1
    assert hung.texts() == ["fine", "stuck"]


@dataclass
class HangingChannel(FakeChannel):
    """A platform whose sends to one conversation never answer."""

    hang_on: str = ""

    async def send(self, outbound: Outbound) -> SentRef:
        if str(outbound.channel.without_thread) == self.hang_on:
            await asyncio.Event().wait()
        return await super().send(outbound)


async def test_a_database_outage_does_not_end_the_sender(clock: FrozenClock, tmp_path: Any) -> None:
    from bot.storage.db import create_engine, session_factory

    gone = create_engine(f"sqlite:///{tmp_path}/helpdesk.db")
    (tmp_path / "helpdesk.db").mkdir()  # where the database file should be: every connect fails
    waits: list[float | None] = []

    async def waiter(_wakeup: asyncio.Event, seconds: float | None) -> None:
        waits.append(seconds)
        if len(waits) == 2:
            sender.stop()

    sender = OutboxSender(
        sessions=session_factory(gone), channels={"fake": FakeChannel()}, clock=clock, waiter=waiter
    )
    try:
        await sender.run()  # logs, waits, tries again — never raises out of the task
    finally:
        await gone.dispose()
    assert waits == [POLL_SECONDS, POLL_SECONDS]


class SlowChannel(FakeChannel):
    """A platform that takes its time to accept a message (until ``accept`` is set)."""

    def __init__(self) -> None:
        super().__init__(platform="fake")
        self.accept = asyncio.Event()
        self.sending = asyncio.Event()

    async def send(self, outbound: Outbound) -> SentRef:
        self.sending.set()
        await self.accept.wait()
        return await super().send(outbound)


async def test_two_drains_of_one_sender_at_once_send_each_message_once(
    sessions: async_sessionmaker[AsyncSession], uow_factory: UnitOfWorkFactory, clock: FrozenClock
) -> None:
    """A process drains from more than one place (each Rasa webhook call, the terminal after
    each line, the run loop): they share the sender's lease, so only the sender itself can keep
    them from sending the same row twice."""
    await queue(uow_factory, ("fake:a", "only once"), ("fake:a", "and this once"))
    slow = SlowChannel()
    sender = OutboxSender(sessions=sessions, channels={"fake": slow}, clock=clock)
    first = asyncio.create_task(sender.drain())
    await slow.sending.wait()  # the first drain is in the middle of sending
    second = asyncio.create_task(sender.drain())
    slow.accept.set()
    delivered = await asyncio.gather(first, second)
    assert slow.texts() == ["only once", "and this once"]
    assert sum(delivered) == 2


@dataclass
class SlowForOneChannel(FakeChannel):
    """A platform whose sends to one conversation take until the test releases them."""

    slow_on: str = ""
    slow_started: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    arrived: dict[str, asyncio.Event] = field(default_factory=lambda: defaultdict(asyncio.Event))

    async def send(self, outbound: Outbound) -> SentRef:
        where = str(outbound.channel.without_thread)
        if where == self.slow_on:
            self.slow_started.set()
            await self.release.wait()
        ref = await super().send(outbound)
        self.arrived[where].set()
        return ref


async def test_a_running_sender_delivers_a_new_answer_while_another_conversations_send_is_slow(
    sessions: async_sessionmaker[AsyncSession],
    uow_factory: UnitOfWorkFactory,
    clock: FrozenClock,
) -> None:
    """What a transaction queued goes out at once, on its own: a customer's answer does not
    wait behind another conversation's slow platform call (up to the send timeout)."""
    slow = SlowForOneChannel(platform="fake", slow_on="fake:a")
    sender = OutboxSender(sessions=sessions, channels={"fake": slow}, clock=clock)
    running = asyncio.create_task(sender.run())
    try:
        await queue(uow_factory, ("fake:a", "to the slow conversation"))
        sender.deliver({"fake:a"})
        await asyncio.wait_for(slow.slow_started.wait(), timeout=60)  # a hang guard only
        await queue(uow_factory, ("fake:b", "your answer"))
        sender.deliver({"fake:b"})
        await asyncio.wait_for(slow.arrived["fake:b"].wait(), timeout=60)
        assert slow.texts() == ["your answer"]  # while the slow send is still under way
        slow.release.set()
        await asyncio.wait_for(slow.arrived["fake:a"].wait(), timeout=60)
        assert slow.texts() == ["your answer", "to the slow conversation"]
    finally:
        sender.stop()
        await running
    async with sessions() as s:
        statuses = list(await s.scalars(select(OutboxMessage.status)))
    assert statuses == ["sent", "sent"]  # each delivered once


async def test_the_agents_line_about_a_delivery_goes_out_without_waiting_for_a_poll(
    sessions: async_sessionmaker[AsyncSession],
    uow_factory: UnitOfWorkFactory,
    clock: FrozenClock,
) -> None:
    """An agent's reply delivered on the direct path writes "delivered" to the case thread;
    that line is delivered too, not left until the run loop's next look for other rows."""
    platform = SlowForOneChannel(platform="fake")  # slow for no one: it reports arrivals
    notify = {"channel": "fake:agents", "delivered": "Delivered to Ada."}
    await reply_with_a_line_for_the_agents(sessions, uow_factory, clock, platform, notify)
    assert platform.texts() == ["Here is your refund.", "Delivered to Ada."]


async def reply_with_a_line_for_the_agents(
    sessions: async_sessionmaker[AsyncSession],
    uow_factory: UnitOfWorkFactory,
    clock: FrozenClock,
    platform: SlowForOneChannel,
    notify: dict[str, str],
) -> None:
    """A running sender that wakes only when woken (no periodic look: what is not handed over
    or woken stays put) is handed a reply to Ada carrying ``notify``; returns once a line
    reached the agents' channel (a hang guard fails the test otherwise)."""

    async def wakeups_only(wakeup: asyncio.Event, _seconds: float | None) -> None:
        await wakeup.wait()

    sender = OutboxSender(
        sessions=sessions, channels={"fake": platform}, clock=clock, waiter=wakeups_only
    )
    running = asyncio.create_task(sender.run())
    try:
        async with uow_factory() as uow:
            uow.send(
                Outbound(channel=ChannelRef.parse("fake:dm-ada"), text="Here is your refund."),
                notify=notify,
            )
            await uow.commit()
        sender.deliver(uow.queued)
        await asyncio.wait_for(platform.arrived["fake:agents"].wait(), timeout=30)  # hang guard
    finally:
        sender.stop()
        await running


async def test_a_busy_conversation_gets_one_more_delivery_not_one_per_new_row(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    uow_factory: UnitOfWorkFactory,
    clock: FrozenClock,
) -> None:
    """The agents' channel hears of every case: while one delivery there is under way, the
    rows queued meanwhile go out in order with the next one, rather than each taking (and
    giving up) the conversation's lease on its own."""
    slow = SlowForOneChannel(platform="fake", slow_on="fake:agents")
    sender = OutboxSender(sessions=sessions, channels={"fake": slow}, clock=clock)
    given_up: list[str] = []  # each delivery ends by giving the conversation's lease up

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("DELETE FROM outbox_leases"):
            given_up.append(statement)

    running = asyncio.create_task(sender.run())
    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        await queue(uow_factory, ("fake:agents", "case 1 opened"))
        sender.deliver({"fake:agents"})
        await asyncio.wait_for(slow.slow_started.wait(), timeout=60)  # a hang guard only
        for n in range(2, 7):
            await queue(uow_factory, ("fake:agents", f"case {n} opened"))
            sender.deliver({"fake:agents"})
        slow.release.set()
        await sender.wait_direct()
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
        sender.stop()
        await running
    assert slow.texts() == [f"case {n} opened" for n in range(1, 7)]
    # the first delivery, the one that waited, and perhaps the run loop's first look (7 when
    # every new row had a delivery of its own)
    assert len(given_up) <= 3, len(given_up)


async def test_the_agents_line_that_a_customer_is_unreachable_goes_out_without_a_poll(
    sessions: async_sessionmaker[AsyncSession],
    uow_factory: UnitOfWorkFactory,
    clock: FrozenClock,
) -> None:
    """The customer blocked the bot: the reply is parked, the conversation marked, and the
    agents' line saying so is delivered at once, like the "delivered" one."""
    platform = SlowForOneChannel(platform="fake")  # slow for no one: it reports arrivals
    platform.failures.append(PermanentSendError("bot was blocked", recipient_gone=True))
    notify = {"channel": "fake:agents", "unreachable": "Ada cannot be reached."}
    await reply_with_a_line_for_the_agents(sessions, uow_factory, clock, platform, notify)
    assert platform.texts() == ["Ada cannot be reached."]
