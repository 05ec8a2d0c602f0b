"""A restart between an escalation and an agent's next word, on both Telegram thread models: a
forum topic per case, and a plain group where the escalation post's reply chain is the case
thread. A restart is a new adapter and a new help desk on the same database; an agent may answer
any line of the chain the bot wrote before it. The stand-in cannot prove Telegram's privacy mode
(which group messages a bot is sent)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.cases.transcript import EventKind
from bot.clock import FrozenClock
from bot.dialogs import replies
from bot.storage.models import CaseEvent
from tests.support.telegram_api import BOT_ID, TelegramApi
from tests.support.telegram_desk import TelegramDesk, open_telegram_desk, telegram_desk_config
from tests.support.telegram_updates import AGENT_GROUP, CUSTOMER_CHAT

PLAIN_GROUP = "-100456"
EVE, DANA = 888, 777


@pytest.fixture
async def api() -> AsyncIterator[TelegramApi]:
    api = TelegramApi()
    await api.start()
    yield api
    await api.stop()


async def open_desk(
    api: TelegramApi, url: str, clock: FrozenClock, tmp_path: Path, group: str
) -> TelegramDesk:
    desk = telegram_desk_config(queue=f"telegram:{group}", agents=("group:admin",))
    return await open_telegram_desk(api, url, clock, tmp_path, mode="webhook", desk=desk)


def sent_to(api: TelegramApi, chat: str) -> list[dict[str, Any]]:
    return [p for p in api.calls_to("sendMessage") if str(p["chat_id"]) == chat]


async def notes_of(tg: TelegramDesk, case: int) -> list[str]:
    async with tg.helpdesk.sessions() as s:
        rows = await s.scalars(
            select(CaseEvent.body).where(
                CaseEvent.case_id == case, CaseEvent.kind == EventKind.NOTE.value
            )
        )
        return list(rows)


async def test_after_a_restart_a_reply_to_any_line_of_the_chain_reaches_its_case(
    api: TelegramApi, migrated_url: str, clock: FrozenClock, tmp_path: Path
) -> None:
    api.add_group(PLAIN_GROUP, forum=False)
    api.set_member(PLAIN_GROUP, BOT_ID, "administrator")
    api.set_member(PLAIN_GROUP, EVE, "administrator")
    first = await open_desk(api, migrated_url, clock, tmp_path, PLAIN_GROUP)
    try:
        await first.deliver(first.updates.customer_says("I need a human"))
        await first.deliver(first.updates.customer_says("my hub is dead"))
        post_id = api.message_ids(PLAIN_GROUP)[0]
        await first.deliver(
            first.updates.agent_replies_to("/claim", reply_to=post_id, chat=PLAIN_GROUP)
        )
    finally:
        await first.close()
    line_id = api.message_ids(PLAIN_GROUP)[-1]  # "#1 claimed by Eve.", a reply to the post
    assert line_id != post_id

    second = await open_desk(api, migrated_url, clock, tmp_path, PLAIN_GROUP)
    second.updates = first.updates
    try:
        await second.deliver(
            second.updates.agent_replies_to(
                "the hub firmware is old", reply_to=line_id, chat=PLAIN_GROUP
            )
        )
        assert await notes_of(second, 1) == ["the hub firmware is old"]
        saved = sent_to(api, PLAIN_GROUP)[-1]
        assert saved["text"] == replies.note_saved(1)
        assert saved["reply_parameters"]["message_id"] == post_id  # answered in the chain

        # a reply to the bot's newest line (sent after the restart) works the same
        await second.deliver(
            second.updates.agent_replies_to(
                "/reply Try unplugging it",
                reply_to=api.message_ids(PLAIN_GROUP)[-1],
                chat=PLAIN_GROUP,
            )
        )
        assert api.texts_to(CUSTOMER_CHAT)[-1] == "Eve (Support): Try unplugging it"
    finally:
        await second.close()


async def test_after_a_restart_a_note_and_a_reply_in_the_case_topic_reach_the_case(
    api: TelegramApi, migrated_url: str, clock: FrozenClock, tmp_path: Path
) -> None:
    api.add_group(AGENT_GROUP, forum=True)
    api.set_member(AGENT_GROUP, BOT_ID, "administrator", can_manage_topics=True)
    api.set_member(AGENT_GROUP, DANA, "creator")
    first = await open_desk(api, migrated_url, clock, tmp_path, AGENT_GROUP)
    try:
        await first.deliver(first.updates.customer_says("I need a human"))
        await first.deliver(first.updates.customer_says("my hub is dead"))
    finally:
        await first.close()
    (topic,) = api.topics[AGENT_GROUP]

    second = await open_desk(api, migrated_url, clock, tmp_path, AGENT_GROUP)
    second.updates = first.updates
    try:
        await second.deliver(second.updates.agent_in_topic("hub looks offline", topic=topic))
        assert await notes_of(second, 1) == ["hub looks offline"]
        assert sent_to(api, AGENT_GROUP)[-1]["message_thread_id"] == str(topic)
        await second.deliver(second.updates.agent_in_topic("/reply On it, Ada", topic=topic))
        assert api.texts_to(CUSTOMER_CHAT)[-1] == "Dana (Support): On it, Ada"
    finally:
        await second.close()
