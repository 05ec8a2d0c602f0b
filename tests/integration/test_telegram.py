"""Telegram end to end: real python-telegram-bot against the local Bot API stand-in, in polling
and in webhook mode, on SQLite and PostgreSQL.

A customer writes in a private chat, gets an answer card with inline buttons, asks for a
person; the case gets its own topic in the agents' forum group, where an agent claims, replies
and resolves — and the customer sees each step. What the stand-in cannot prove: Telegram's real
permission checks and rate limits, and how clients render the messages.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.clock import FrozenClock
from bot.dialogs import replies
from bot.metrics import REGISTRY
from tests.support.telegram_api import TelegramApi
from tests.support.telegram_desk import TelegramDesk, open_telegram_desk
from tests.support.telegram_updates import AGENT_GROUP, CUSTOMER_CHAT


@pytest.fixture(params=["polling", "webhook"])
async def tg(
    request: pytest.FixtureRequest,
    api: TelegramApi,
    migrated_url: str,
    clock: FrozenClock,
    tmp_path: Path,
) -> AsyncIterator[TelegramDesk]:
    desk = await open_telegram_desk(api, migrated_url, clock, tmp_path, mode=request.param)
    yield desk
    await desk.close()


def keyboard_of(params: dict[str, Any]) -> list[tuple[str, str]]:
    markup = params.get("reply_markup") or {"inline_keyboard": []}
    return [(b["text"], b["callback_data"]) for row in markup["inline_keyboard"] for b in row]


def last_to(api: TelegramApi, chat: str) -> dict[str, Any]:
    return [p for p in api.calls_to("sendMessage") if str(p["chat_id"]) == chat][-1]


async def test_customer_and_agents_go_through_a_whole_case(tg: TelegramDesk) -> None:
    api, updates = tg.api, tg.updates

    # a question gets the answer card with inline buttons, as plain text
    await tg.deliver(updates.customer_says("I forgot my password"))
    card = last_to(api, CUSTOMER_CHAT)
    assert "Reset your password" in card["text"]
    assert "parse_mode" not in card
    assert keyboard_of(card) == [
        ("That helped", "helped::reset-your-password"),
        ("Talk to a person", "human::"),
        ("Show the whole article", "article::reset-your-password"),
    ]

    # "Talk to a person" opens a case: a topic of its own in the agents' forum
    await tg.deliver(updates.customer_clicks("human::", message_id=last_id(api, CUSTOMER_CHAT)))
    assert "case #1" in last_to(api, CUSTOMER_CHAT)["text"]
    (topic,) = api.calls_to("createForumTopic")
    assert str(topic["chat_id"]) == AGENT_GROUP
    assert topic["name"] == "#1 I forgot my password"
    post = last_to(api, AGENT_GROUP)
    assert post["message_thread_id"] == "70"
    assert "New case #1" in post["text"] and "Ada" in post["text"]
    # Reply needs a form, which Telegram lacks: agents use /reply, so no Reply button
    assert [label for label, _ in keyboard_of(post)] == ["Claim", "Release", "Transfer", "Resolve"]

    # an agent claims with the button on the post: the post is edited, the customer told
    await tg.deliver(updates.agent_clicks("claim:1:", message_id=post_id(api), topic=70))
    edited = api.calls_to("editMessageText")[-1]
    assert edited["message_id"] == str(post_id(api))
    assert "claimed by Dana" in edited["text"]
    assert "Dana from our team has joined" in last_to(api, CUSTOMER_CHAT)["text"]

    # /reply@bot in the topic reaches the customer; other words stay an internal note
    await tg.deliver(updates.agent_in_topic("/reply@helpdesk_test_bot Hello Ada", topic=70))
    assert last_to(api, CUSTOMER_CHAT)["text"] == "Dana (Support): Hello Ada"
    customer_lines = len(api.texts_to(CUSTOMER_CHAT))
    await tg.deliver(updates.agent_in_topic("checked the logs, looks like a lockout", topic=70))
    assert len(api.texts_to(CUSTOMER_CHAT)) == customer_lines
    assert last_to(api, AGENT_GROUP)["text"] == replies.note_saved(1)
    assert last_to(api, AGENT_GROUP)["message_thread_id"] == "70"

    # the customer answers: the agents read it in the case's topic
    await tg.deliver(updates.customer_says("thanks, that worked"))
    relayed = last_to(api, AGENT_GROUP)
    assert relayed["message_thread_id"] == "70" and "thanks, that worked" in relayed["text"]

    # /resolve: the customer is asked for a rating, the post loses its buttons
    await tg.deliver(updates.agent_in_topic("/resolve", topic=70))
    resolved = last_to(api, CUSTOMER_CHAT)
    assert resolved["text"] == replies.case_resolved(1)
    assert [data for _, data in keyboard_of(resolved)] == [f"rate:1:{n}" for n in range(1, 6)]
    assert "reply_markup" not in api.calls_to("editMessageText")[-1]
    await tg.deliver(updates.customer_clicks("rate:1:5", message_id=last_id(api, CUSTOMER_CHAT)))
    assert "Thank you for your rating" in last_to(api, CUSTOMER_CHAT)["text"]


def post_id(api: TelegramApi) -> int:
    """The escalation post: the first message the bot sent to the agents' group."""
    return api.message_ids(AGENT_GROUP)[0]


def last_id(api: TelegramApi, chat: str) -> int:
    return api.message_ids(chat)[-1]


async def test_every_button_click_is_answered(tg: TelegramDesk) -> None:
    await tg.deliver(tg.updates.customer_says("I forgot my password"))
    click = tg.updates.customer_clicks(
        "helped::reset-your-password", message_id=last_id(tg.api, CUSTOMER_CHAT)
    )
    await tg.deliver(click)
    assert last_to(tg.api, CUSTOMER_CHAT)["text"] == replies.GLAD_IT_HELPED
    answered = tg.api.calls_to("answerCallbackQuery")
    assert [a["callback_query_id"] for a in answered] == [click["callback_query"]["id"]]


async def test_start_and_commands_in_a_private_chat(tg: TelegramDesk) -> None:
    await tg.deliver(tg.updates.customer_says("/start"))
    assert last_to(tg.api, CUSTOMER_CHAT)["text"] == replies.GREETING
    await tg.deliver(tg.updates.customer_says("/status"))
    assert last_to(tg.api, CUSTOMER_CHAT)["text"] == replies.NO_CASES


async def test_the_update_mode_is_set_up_at_start(tg: TelegramDesk) -> None:
    if tg.mode == "polling":
        assert tg.api.calls_to("deleteWebhook")  # a leftover webhook would block getUpdates
        assert tg.api.calls_to("setWebhook") == []
        await tg.api.wait_for_call("getUpdates", timeout="10")  # long polling
    else:
        assert tg.api.calls_to("setWebhook") and tg.api.calls_to("getUpdates") == []


async def test_polling_that_lost_telegram_and_got_it_back_counts_one_reconnect(
    api: TelegramApi, migrated_url: str, clock: FrozenClock, tmp_path: Path
) -> None:
    """A long poll answered 502 (Telegram's front end without its backend), then polling goes
    on: the customer's message still arrives, and the metrics show one reconnect."""

    def reconnects() -> float:
        found = REGISTRY.get_sample_value(
            "helpdesk_adapter_reconnects_total", {"platform": "telegram"}
        )
        return found or 0.0

    tg = await open_telegram_desk(api, migrated_url, clock, tmp_path, mode="polling")
    try:
        await tg.api.wait_for_call("getUpdates", timeout="10")  # polling, nothing lost yet
        before = reconnects()
        tg.api.break_polling()
        await tg.deliver(tg.updates.customer_says("/start"))  # fetched by the poll after it
        assert last_to(tg.api, CUSTOMER_CHAT)["text"] == replies.GREETING
        assert reconnects() == before + 1
    finally:
        await tg.close()
