"""The outbox sender: order per conversation, retries after a platform's retry-after, parking
of permanent failures — with a controlled clock, never sleeping."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.adapters.fake import FakeChannel
from bot.clock import FrozenClock
from bot.delivery import OutboxSender
from bot.errors import PermanentSendError, RetryableSendError
from bot.messages import ChannelRef, Outbound
from bot.storage.models import OutboxMessage
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
