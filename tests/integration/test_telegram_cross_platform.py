"""A Telegram customer served by agents on another platform: the queue lives on ``fake:agents``
(a FakeChannel, standing in for Slack, Discord or the terminal). What the agents do there
reaches the customer in Telegram through the same outbox, and the customer's words reach them."""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.adapters.fake import FakeChannel
from bot.clock import FrozenClock
from bot.dialogs import replies
from bot.messages import ChannelRef, Inbound, InboundKind
from bot.storage.models import Customer
from tests.support.telegram_api import TelegramApi
from tests.support.telegram_desk import TelegramDesk, open_telegram_desk, telegram_desk_config
from tests.support.telegram_updates import CUSTOMER_CHAT

AGENTS = ChannelRef("fake", "agents")


@pytest.fixture
async def api() -> AsyncIterator[TelegramApi]:
    api = TelegramApi()
    await api.start()
    yield api
    await api.stop()


async def test_agents_elsewhere_serve_a_telegram_customer(
    api: TelegramApi, migrated_url: str, clock: FrozenClock, tmp_path: Path
) -> None:
    agents = FakeChannel(platform="fake")
    tg: TelegramDesk = await open_telegram_desk(
        api,
        migrated_url,
        clock,
        tmp_path,
        mode="polling",
        desk=telegram_desk_config(queue=str(AGENTS)),
        others={"fake": agents},
    )
    ids = itertools.count(1)

    async def agent(text: str) -> None:
        await tg.helpdesk.intake.receive(
            Inbound(
                kind=InboundKind.COMMAND,
                event_id=f"agent{next(ids)}",
                channel=AGENTS,
                user_id="dana",
                user_name="Dana",
                text=text,
                is_direct=False,
            )
        )
        await tg.helpdesk.sender.drain()

    try:
        await tg.deliver(tg.updates.customer_says("I forgot my password"))
        card_id = api.message_ids(CUSTOMER_CHAT)[-1]
        await tg.deliver(tg.updates.customer_clicks("human::", message_id=card_id))
        assert "case #1" in api.texts_to(CUSTOMER_CHAT)[-1]
        (post,) = agents.texts()
        assert "New case #1" in post and "(telegram)" in post
        assert api.calls_to("createForumTopic") == []

        await agent("claim 1")
        assert "Dana from our team has joined" in api.texts_to(CUSTOMER_CHAT)[-1]
        await agent("reply 1 Hi Ada, I've sent a new link")
        assert api.texts_to(CUSTOMER_CHAT)[-1] == "Dana (Support): Hi Ada, I've sent a new link"

        await tg.deliver(tg.updates.customer_says("got it, thanks"))
        assert agents.texts()[-1] == "#1 Ada Lovelace: got it, thanks"
        assert agents.sent[-1].channel.thread is not None  # in the case's thread

        await agent("resolve 1")
        assert api.texts_to(CUSTOMER_CHAT)[-1] == replies.case_resolved(1)
    finally:
        await tg.close()


async def test_a_link_code_typed_elsewhere_is_confirmed_in_telegram_before_anything_merges(
    api: TelegramApi, migrated_url: str, clock: FrozenClock, tmp_path: Path
) -> None:
    """The code is asked for in Telegram and typed on another platform: Telegram asks its
    owner with real inline buttons, and only their Yes there joins the two histories."""
    elsewhere = FakeChannel(platform="fake")
    tg = await open_telegram_desk(api, migrated_url, clock, tmp_path, others={"fake": elsewhere})
    ids = itertools.count(1)
    dm = ChannelRef("fake", "dm-77")

    async def typed_elsewhere(text: str) -> list[str]:
        before = len(elsewhere.sent)
        await tg.helpdesk.intake.receive(
            Inbound(
                kind=InboundKind.COMMAND,
                event_id=f"other{next(ids)}",
                channel=dm,
                user_id="77",
                user_name="Ada L.",
                text=text,
            )
        )
        await tg.helpdesk.sender.drain()
        return [o.text for o in elsewhere.sent[before:]]

    try:
        await tg.deliver(tg.updates.customer_says("/link"))
        code = re.search(r"link code is ([A-Z0-9]+)", api.texts_to(CUSTOMER_CHAT)[-1])
        assert code
        assert await typed_elsewhere(f"/link {code.group(1)}") == [replies.link_asked(10)]
        question = api.calls_to("sendMessage")[-1]
        assert question["text"] == replies.link_question("fake", "Ada L.", 10)
        keyboard = question["reply_markup"]["inline_keyboard"]
        assert [b["callback_data"] for row in keyboard for b in row] == [
            "link:1:yes",
            "link:1:no",
        ]
        message_id = api.message_ids(CUSTOMER_CHAT)[-1]
        async with tg.helpdesk.sessions() as s:
            assert await s.scalar(select(func.count()).select_from(Customer)) == 2

        await tg.deliver(tg.updates.customer_clicks("link:1:yes", message_id=message_id))
        assert api.texts_to(CUSTOMER_CHAT)[-1] == replies.linked_here("fake", "Ada L.")
        assert elsewhere.texts(str(dm))[-1] == replies.linked("Ada Lovelace")
        (edit,) = [e for e in api.calls_to("editMessageText") if int(e["message_id"]) == message_id]
        assert edit["text"] == replies.link_question_settled("fake", "Ada L.", "linked")
        assert edit.get("reply_markup", {}).get("inline_keyboard", []) == []  # no more Yes
        async with tg.helpdesk.sessions() as s:
            assert await s.scalar(select(func.count()).select_from(Customer)) == 1

        # the same Yes pressed again (a stale keyboard on another device): nothing twice
        sent_before = len(api.texts_to(CUSTOMER_CHAT)), len(elsewhere.sent)
        await tg.deliver(tg.updates.customer_clicks("link:1:yes", message_id=message_id))
        assert (len(api.texts_to(CUSTOMER_CHAT)), len(elsewhere.sent)) == sent_before
    finally:
        await tg.close()
