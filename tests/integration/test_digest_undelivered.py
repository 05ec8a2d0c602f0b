"""The manager digest says how many messages could not be delivered or handled — and says
nothing of it when every message went out and came in."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import FrozenClock
from bot.config import DeskConfig
from bot.escalation.sla_clock import CaseSlaClock
from bot.messages import ChannelRef, Outbound
from bot.reports.digest import build_digest
from bot.storage.models import InboxMessage
from bot.storage.outbox import new_row
from bot.storage.uow import UnitOfWorkFactory


async def digest_text(uow_factory: UnitOfWorkFactory, clock: FrozenClock) -> str:
    async with uow_factory() as uow:
        digest = await build_digest(
            uow, "day", clock.now() + timedelta(days=1), "UTC", sla=CaseSlaClock.of(DeskConfig())
        )
    assert digest.to_dict()["undelivered"] == digest.backstops.undelivered
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


async def test_the_digest_counts_incoming_messages_that_could_not_be_handled(
    uow_factory: UnitOfWorkFactory, clock: FrozenClock
) -> None:
    assert "could not be handled" not in await digest_text(uow_factory, clock)
    async with uow_factory() as uow:
        for number, status in enumerate(("failed", "done", "pending", "failed", "failed")):
            uow.session.add(
                InboxMessage(
                    platform="fake",
                    event_id=f"e{number}",
                    conversation="fake:x",
                    payload={},
                    received_at=clock.now(),
                    next_attempt_at=clock.now(),
                    status=status,
                )
            )
        await uow.commit()
    text = await digest_text(uow_factory, clock)
    assert "3 incoming messages could not be handled (helpdesk inbox list --status failed)" in text
