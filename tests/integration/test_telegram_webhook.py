"""The Telegram webhook route in the ``web`` process's app: the secret token is checked before
anything is stored, the webhook is registered with it at start, and a body that is not an
Update is refused without side effects. Requests go through ``create_web_app`` over httpx's
ASGI transport, as Telegram's would over HTTPS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.adapters.telegram import SECRET_HEADER, WEBHOOK_PATH
from bot.clock import FrozenClock
from bot.dialogs import replies
from bot.storage.models import InboxMessage
from tests.support.telegram_api import TelegramApi
from tests.support.telegram_desk import (
    WEBHOOK_SECRET,
    WEBHOOK_URL,
    TelegramDesk,
    open_telegram_desk,
)
from tests.support.telegram_updates import AGENT_GROUP, CUSTOMER_CHAT


@pytest.fixture
async def api() -> AsyncIterator[TelegramApi]:
    api = TelegramApi()
    api.add_group(AGENT_GROUP, forum=True)
    await api.start()
    yield api
    await api.stop()


@pytest.fixture
async def tg(
    api: TelegramApi, migrated_url: str, clock: FrozenClock, tmp_path: Path
) -> AsyncIterator[TelegramDesk]:
    desk = await open_telegram_desk(api, migrated_url, clock, tmp_path, mode="webhook")
    yield desk
    await desk.close()


async def stored(tg: TelegramDesk) -> int:
    async with tg.helpdesk.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(InboxMessage)) or 0)


async def test_the_webhook_is_registered_with_its_secret_and_no_polling(tg: TelegramDesk) -> None:
    (registered,) = tg.api.calls_to("setWebhook")
    assert registered["url"] == WEBHOOK_URL
    assert registered["secret_token"] == WEBHOOK_SECRET
    assert tg.api.calls_to("getUpdates") == []


@pytest.mark.parametrize("headers", [{}, {SECRET_HEADER: "guess"}, {SECRET_HEADER: ""}])
async def test_a_request_without_the_right_secret_is_refused(
    tg: TelegramDesk, headers: dict[str, str]
) -> None:
    assert tg.client is not None
    update = tg.updates.customer_says("/start")
    response = await tg.client.post(WEBHOOK_PATH, json=update, headers=headers)
    assert response.status_code == 403
    await tg.helpdesk.sender.drain()
    assert await stored(tg) == 0
    assert tg.api.texts_to(CUSTOMER_CHAT) == []


async def test_a_body_that_is_not_an_update_is_refused(tg: TelegramDesk) -> None:
    assert tg.client is not None
    response = await tg.client.post(
        WEBHOOK_PATH, content=b"not json", headers={SECRET_HEADER: WEBHOOK_SECRET}
    )
    assert response.status_code == 400
    assert await stored(tg) == 0


async def test_a_redelivered_update_is_answered_once(tg: TelegramDesk) -> None:
    update = tg.updates.customer_says("/start")
    await tg.deliver(update)
    await tg.deliver(update)  # Telegram retries when it missed our 200
    assert tg.api.texts_to(CUSTOMER_CHAT) == [replies.GREETING]


def test_the_builder_reads_the_environment_and_helpdesk_yml(tmp_path: Path) -> None:
    from pydantic import SecretStr

    from bot.adapters.telegram import build
    from bot.config import Settings
    from bot.errors import ConfigError

    config = tmp_path / "helpdesk.yml"
    config.write_text(
        "default_queue: tg\nqueues:\n  - {name: tg, channel: 'telegram:-100777/5'}\n"
        "  - {name: other, channel: 'fake:agents'}\n"
    )
    assert build(Settings(HELPDESK_CONFIG=config), True) is None  # no token: adapter off
    channel = build(Settings(HELPDESK_CONFIG=config, TELEGRAM_TOKEN=SecretStr("1:x")), True)
    assert channel is not None and channel.http_routes() == []  # polling: no route
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_SECRET"):
        build(
            Settings(
                HELPDESK_CONFIG=config,
                TELEGRAM_TOKEN=SecretStr("1:x"),
                TELEGRAM_WEBHOOK_URL=WEBHOOK_URL,
            ),
            False,
        )
