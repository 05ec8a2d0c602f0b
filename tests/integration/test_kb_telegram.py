"""Articles from Telegram, where there are no forms: ``/kb add`` in the agents' group starts a
guided prompt that asks for the title, the answer and example questions, one message each —
through python-telegram-bot against the Bot API stand-in — and saves a draft with a Publish
button whose click publishes it. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.clock import FrozenClock
from bot.config import DeskConfig, QueueConfig, RoleMembers, Roles
from bot.storage.models import Article
from tests.support.telegram_api import TelegramApi
from tests.support.telegram_desk import TelegramDesk, open_telegram_desk
from tests.support.telegram_updates import AGENT_GROUP, Updates

ADMIN = 999


def admins_desk() -> DeskConfig:
    return DeskConfig(
        roles=Roles(
            agents=RoleMembers(telegram=["777", str(ADMIN)]),
            admins=RoleMembers(telegram=[str(ADMIN)]),
        ),
        queues=[QueueConfig(name="default", channel=f"telegram:{AGENT_GROUP}")],
    )


@pytest.fixture
async def tg(
    api: TelegramApi, migrated_url: str, clock: FrozenClock, tmp_path: Path
) -> AsyncIterator[TelegramDesk]:
    desk = await open_telegram_desk(api, migrated_url, clock, tmp_path, desk=admins_desk())
    yield desk
    await desk.close()


async def test_an_admin_writes_and_publishes_an_article_step_by_step(tg: TelegramDesk) -> None:
    updates = Updates()
    steps = [
        ("/kb add", "What is its title?"),
        ("Gift cards", "And the answer customers should get?"),
        ("Gift cards never expire.\n\n## Lost card\n\nWe send a new one.", "questions"),
        ("do gift cards expire?\nI lost my gift card", "Saved as draft 'gift-cards'"),
    ]
    for text, asked in steps:
        before = len(tg.api.texts_to(AGENT_GROUP))
        await tg.deliver(updates.agent_says(text, user=ADMIN, name="Root"))
        said = tg.api.texts_to(AGENT_GROUP)[before:]
        assert any(asked in s for s in said), (text, said)

    preview = next(m for m in reversed(tg.api.sent) if "Preview of 'gift-cards'" in m["text"])
    assert len(preview["text"]) <= 4096
    (button,) = [b for row in preview["reply_markup"]["inline_keyboard"] for b in row]
    assert button["text"] == "Publish"
    await tg.deliver(
        updates.agent_clicks(
            button["callback_data"], message_id=preview["message_id"], topic=None, user=ADMIN
        )
    )
    async with tg.helpdesk.sessions() as session:
        article = await session.scalar(select(Article).where(Article.slug == "gift-cards"))
    assert article is not None
    assert (article.status, article.questions) == (
        "published",
        ["do gift cards expire?", "I lost my gift card"],
    )
