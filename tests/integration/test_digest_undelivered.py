"""The manager digest says how many messages could not be delivered — and says nothing of it
when every message went out."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import FrozenClock
from bot.messages import ChannelRef, Outbound
from bot.reports.digest import build_digest
from bot.storage.outbox import new_row
from bot.storage.uow import UnitOfWorkFactory


async def digest_text(uow_factory: UnitOfWorkFactory, clock: FrozenClock) -> str:
    async with uow_factory() as uow:
        digest = await build_digest(uow, "day", clock.now() + timedelta(days=1), "UTC")
    assert digest.metrics.to_dict()["undelivered"] == digest.metrics.undelivered
    return digest.text


async def test_the_digest_counts_messages_that_could_not_be_delivered(
    uow_factory: UnitOfWorkFactory, clock: FrozenClock
) -> None:
    assert "could not be delivered" not in await digest_text(uow_factory, clock)
    async with uow_factory() as uow:
        for status, text in (("parked", "a"), ("parked", "b"), ("sent", "c"), ("pending", "d")):
            row = new_row(Outbound(channel=ChannelRef.parse("fake:x"), text=text), clock.now())
            row.status = status
            uow.session.add(row)
        await uow.commit()
    text = await digest_text(uow_factory, clock)
    assert "2 messages could not be delivered (helpdesk outbox list --status parked)" in text
