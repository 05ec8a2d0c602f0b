"""Telegram send errors through the outbox: a 429 waits exactly the ``retry_after`` Telegram
asked for, a 502 is retried with backoff, and a customer who blocked the bot parks the message
(never retried). Time is a FrozenClock moved by hand; the stand-in answers with Telegram's
documented error bodies. It cannot prove Telegram's real rate limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.clock import FrozenClock
from bot.dialogs import replies
from bot.storage.models import OutboxMessage
from tests.support.telegram_api import (
    BAD_GATEWAY,
    BLOCKED,
    RATE_LIMITED,
    TelegramApi,
)
from tests.support.telegram_desk import TelegramDesk, open_telegram_desk
from tests.support.telegram_updates import CUSTOMER_CHAT


@pytest.fixture
async def tg(
    api: TelegramApi, migrated_url: str, clock: FrozenClock, tmp_path: Path
) -> AsyncIterator[TelegramDesk]:
    desk = await open_telegram_desk(api, migrated_url, clock, tmp_path, mode="webhook")
    yield desk
    await desk.close()


async def test_a_429_is_retried_after_the_seconds_telegram_asked_for(
    tg: TelegramDesk, clock: FrozenClock
) -> None:
    tg.api.fail("sendMessage", RATE_LIMITED(7))
    await tg.deliver(tg.updates.customer_says("/start"))
    assert tg.api.texts_to(CUSTOMER_CHAT) == [replies.GREETING]  # tried once, refused
    assert tg.api.message_ids(CUSTOMER_CHAT) == []

    clock.advance(seconds=6)
    assert await tg.helpdesk.sender.drain() == 0
    assert len(tg.api.calls_to("sendMessage")) == 1  # not before retry_after

    clock.advance(seconds=1)
    assert await tg.helpdesk.sender.drain() == 1
    assert len(tg.api.message_ids(CUSTOMER_CHAT)) == 1  # the greeting arrived


async def test_a_bad_gateway_is_retried_with_backoff(tg: TelegramDesk, clock: FrozenClock) -> None:
    tg.api.fail("sendMessage", BAD_GATEWAY)
    await tg.deliver(tg.updates.customer_says("/start"))
    assert tg.api.message_ids(CUSTOMER_CHAT) == []
    clock.advance(seconds=2)  # the first backoff: 1–2 s, jittered
    assert await tg.helpdesk.sender.drain() == 1
    assert len(tg.api.message_ids(CUSTOMER_CHAT)) == 1


async def test_a_customer_who_blocked_the_bot_parks_the_message(
    tg: TelegramDesk, clock: FrozenClock
) -> None:
    tg.api.fail("sendMessage", BLOCKED)
    await tg.deliver(tg.updates.customer_says("/start"))
    async with tg.helpdesk.sessions() as session:
        row = (await session.scalars(select(OutboxMessage))).one()
    assert row.status == "parked"
    assert "bot was blocked by the user" in (row.last_error or "")

    clock.advance(hours=1)
    await tg.helpdesk.sender.drain()
    assert len(tg.api.calls_to("sendMessage")) == 1  # never retried
