"""The whole help desk with the real Telegram adapter (PTB) talking to the Bot API stand-in.

``mode="polling"``: PTB's Updater long-polls the stand-in's ``getUpdates``; ``deliver`` queues
an update there and waits (event-driven) until the help desk has processed it.
``mode="webhook"``: updates are POSTed to ``/telegram/webhook`` of the web app from
``bot.web.create_web_app`` through httpx's ASGI transport, with the secret token header.
Either way ``deliver`` then drains the outbox, so what the stand-in recorded is what a person
would see.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bot.adapters.telegram import SECRET_HEADER, WEBHOOK_PATH, TelegramChannel, agent_chats
from bot.bootstrap import HelpDesk, build_helpdesk
from bot.clock import FrozenClock
from bot.config import DeskConfig, QueueConfig, RoleMembers, Roles, Settings
from bot.messages import Channel, Inbound
from bot.web import create_web_app
from tests.support.desk import KeywordUnderstander
from tests.support.telegram_api import TOKEN, TelegramApi
from tests.support.telegram_updates import AGENT_GROUP, Updates

WEBHOOK_SECRET = "s3cret-for-tests"
WEBHOOK_URL = "https://desk.example.test/telegram/webhook"


def telegram_desk_config(
    queue: str = f"telegram:{AGENT_GROUP}", agents: tuple[str, ...] = ("777",)
) -> DeskConfig:
    return DeskConfig(
        roles=Roles(agents=RoleMembers(telegram=list(agents), fake=["dana"])),
        queues=[QueueConfig(name="default", channel=queue)],
        answer_threshold=0.5,
    )


@dataclass
class TelegramDesk:
    api: TelegramApi
    channel: TelegramChannel
    helpdesk: HelpDesk
    mode: str
    updates: Updates = field(default_factory=Updates)
    client: httpx.AsyncClient | None = None
    processed: asyncio.Queue[Inbound] = field(default_factory=asyncio.Queue)

    async def deliver(self, update: dict[str, Any]) -> None:
        """Hand one update to the bot the way Telegram would, then deliver the outbox."""
        if self.mode == "webhook":
            assert self.client is not None
            response = await self.client.post(
                WEBHOOK_PATH, json=update, headers={SECRET_HEADER: WEBHOOK_SECRET}
            )
            assert response.status_code == 200, response.text
        else:
            self.api.push_update(update)
            await asyncio.wait_for(self.processed.get(), 10)
        await self.helpdesk.sender.drain()
        if "callback_query" in update:  # every click is answered: at once, or by the outbox
            await self.api.wait_for_call(
                "answerCallbackQuery", callback_query_id=update["callback_query"]["id"]
            )

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()
        await self.channel.stop()
        await self.helpdesk.close()


async def open_telegram_desk(
    api: TelegramApi,
    database_url: str,
    clock: FrozenClock,
    tmp_path: Path,
    *,
    mode: str = "polling",
    desk: DeskConfig | None = None,
    others: Mapping[str, Channel] | None = None,
) -> TelegramDesk:
    desk = desk or telegram_desk_config()
    channel = TelegramChannel(
        token=TOKEN,
        api_url=api.base_url,
        agent_chats=agent_chats(desk),
        listen=mode == "polling",
        webhook_url=WEBHOOK_URL if mode == "webhook" else "",
        webhook_secret=WEBHOOK_SECRET if mode == "webhook" else "",
        clock=clock,
    )
    channels: dict[str, Channel] = {"telegram": channel, **(others or {})}
    helpdesk = await build_helpdesk(
        Settings(DATABASE_URL=database_url, HELPDESK_DATA_DIR=tmp_path),
        channels=channels,
        understander=KeywordUnderstander(),
        clock=clock,
        desk=desk,
    )
    harness = TelegramDesk(api=api, channel=channel, helpdesk=helpdesk, mode=mode)

    async def on_inbound(inbound: Inbound) -> None:
        await helpdesk.intake.receive(inbound)  # synchronous processing: deterministic tests
        harness.processed.put_nowait(inbound)

    await channel.start(on_inbound)
    if mode == "webhook":
        transport = httpx.ASGITransport(app=create_web_app(channels))
        harness.client = httpx.AsyncClient(transport=transport, base_url="http://desk.test")
    return harness
