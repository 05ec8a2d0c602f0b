"""What customers send cannot turn into markup, links, pings or leaked secrets on Telegram:
messages go out as plain text (no ``parse_mode``) with link previews off, mentions arrive
broken by the core, attachments are answered in words, and the bot token never reaches the
logs. The stand-in records the exact Bot API parameters; how a client renders them is what it
cannot prove."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.adapters.telegram import TelegramChannel
from bot.clock import FrozenClock
from bot.dialogs import replies
from bot.errors import ConfigError
from bot.messages import Inbound
from bot.text import ZERO_WIDTH_SPACE
from tests.support.telegram_api import TOKEN, TelegramApi
from tests.support.telegram_desk import TelegramDesk, open_telegram_desk
from tests.support.telegram_updates import AGENT_GROUP, CUSTOMER_CHAT

HOSTILE = "<b>bold</b> [x](http://evil.example) @admin"


@pytest.fixture
async def tg(
    api: TelegramApi, migrated_url: str, clock: FrozenClock, tmp_path: Path
) -> AsyncIterator[TelegramDesk]:
    desk = await open_telegram_desk(api, migrated_url, clock, tmp_path, mode="polling")
    yield desk
    await desk.close()


async def test_customer_markup_reaches_agents_as_literal_text(tg: TelegramDesk) -> None:
    await tg.deliver(tg.updates.customer_says("I need a human"))
    await tg.deliver(tg.updates.customer_says(HOSTILE))
    await tg.deliver(tg.updates.customer_says("also " + HOSTILE))
    to_agents = [p for p in tg.api.calls_to("sendMessage") if str(p["chat_id"]) == AGENT_GROUP]
    post, relayed = to_agents[0], to_agents[-1]
    for message in (post, relayed):
        assert "<b>bold</b> [x](http://evil.example)" in message["text"]
        assert f"@{ZERO_WIDTH_SPACE}admin" in message["text"]  # no ping
        assert "@admin" not in message["text"]
        assert "parse_mode" not in message and "entities" not in message
        assert message["link_preview_options"] == {"is_disabled": True}
    assert relayed["message_thread_id"] == post["message_thread_id"]


@pytest.mark.parametrize("fixture", ["private_photo", "private_document"])
async def test_attachments_get_a_clear_answer(tg: TelegramDesk, fixture: str) -> None:
    await tg.deliver(tg.updates.customer_sends(fixture))
    assert tg.api.texts_to(CUSTOMER_CHAT) == [replies.ATTACHMENT_REFUSED]


async def test_the_token_never_reaches_the_logs(
    api: TelegramApi,
    migrated_url: str,
    clock: FrozenClock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    tg = await open_telegram_desk(api, migrated_url, clock, tmp_path, mode="polling")
    try:
        await tg.deliver(tg.updates.customer_says("/start"))
    finally:
        await tg.close()
    requests = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert any("/bot<token>/sendMessage" in message for message in requests)
    assert TOKEN not in caplog.text


async def test_a_rejected_token_stops_start_with_a_clear_error_that_hides_it(
    api: TelegramApi,
) -> None:
    wrong = "999:not-the-token"
    channel = TelegramChannel(token=wrong, api_url=api.base_url)

    async def nobody(_inbound: Inbound) -> None:
        raise AssertionError("nothing may arrive")

    with pytest.raises(ConfigError, match="TELEGRAM_TOKEN was rejected") as raised:
        await channel.start(nobody)
    await channel.stop()
    assert wrong not in str(raised.value)
    assert raised.value.__suppress_context__  # PTB's message, which quotes it, is not shown
