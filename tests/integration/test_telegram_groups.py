"""Agent groups on Telegram: a plain (non-forum) group uses the escalation post's reply chain as
the case thread; group admins count as agents through ``group:admin``; the start-up check says
what the bot is missing; a forum where topics cannot be created falls back to reply chains.
The stand-in answers ``getChat``/``getChatMember`` as configured; it cannot prove Telegram's real
privacy-mode behaviour (which messages a bot is sent)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.clock import FrozenClock
from bot.dialogs import replies
from tests.support.telegram_api import BOT_ID, NOT_ENOUGH_RIGHTS, TelegramApi
from tests.support.telegram_desk import TelegramDesk, open_telegram_desk, telegram_desk_config
from tests.support.telegram_updates import AGENT_GROUP, CUSTOMER_CHAT

PLAIN_GROUP = "-100456"
EVE, MALLORY = 888, 999


@pytest.fixture
async def api() -> AsyncIterator[TelegramApi]:
    api = TelegramApi()
    await api.start()
    yield api
    await api.stop()


async def open_desk(
    api: TelegramApi,
    url: str,
    clock: FrozenClock,
    tmp_path: Path,
    group: str,
    agents: tuple[str, ...] = ("group:admin",),
) -> TelegramDesk:
    desk = telegram_desk_config(queue=f"telegram:{group}", agents=agents)
    return await open_telegram_desk(api, url, clock, tmp_path, mode="webhook", desk=desk)


async def open_case(tg: TelegramDesk) -> None:
    await tg.deliver(tg.updates.customer_says("I need a human"))
    await tg.deliver(tg.updates.customer_says("my hub is dead"))


def sent_to(api: TelegramApi, chat: str) -> list[dict[str, Any]]:
    return [p for p in api.calls_to("sendMessage") if str(p["chat_id"]) == chat]


async def test_a_plain_group_works_by_reply_chains_and_group_admins_are_agents(
    api: TelegramApi, migrated_url: str, clock: FrozenClock, tmp_path: Path
) -> None:
    api.add_group(PLAIN_GROUP, forum=False)
    api.set_member(PLAIN_GROUP, BOT_ID, "administrator")
    api.set_member(PLAIN_GROUP, EVE, "administrator")
    tg = await open_desk(api, migrated_url, clock, tmp_path, PLAIN_GROUP)
    try:
        await open_case(tg)
        assert api.calls_to("createForumTopic") == []
        (post,) = sent_to(api, PLAIN_GROUP)
        assert "New case #1" in post["text"] and "message_thread_id" not in post
        post_id = api.message_ids(PLAIN_GROUP)[0]

        # a member who is not an admin may not claim
        claim = tg.updates.agent_replies_to("/claim", reply_to=post_id, chat=PLAIN_GROUP)
        claim["message"]["from"].update({"id": MALLORY, "first_name": "Mallory"})
        in_group = len(sent_to(api, PLAIN_GROUP))
        await tg.deliver(claim)
        (refusal,) = sent_to(api, str(MALLORY))  # told in private, not before the group
        assert refusal["text"] == replies.NOT_AN_AGENT
        assert len(sent_to(api, PLAIN_GROUP)) == in_group

        # a click on Claim is refused with an alert only Mallory sees
        click = tg.updates.agent_clicks(
            "claim:1:", message_id=post_id, topic=None, chat=PLAIN_GROUP, user=MALLORY
        )
        await tg.deliver(click)
        (answer,) = [
            a
            for a in api.calls_to("answerCallbackQuery")
            if a["callback_query_id"] == click["callback_query"]["id"]
        ]
        assert answer["text"] == replies.NOT_AN_AGENT and answer["show_alert"] == "true"
        assert len(sent_to(api, PLAIN_GROUP)) == in_group

        # a group admin claims by replying to the post; the thread line answers the post
        await tg.deliver(tg.updates.agent_replies_to("/claim", reply_to=post_id, chat=PLAIN_GROUP))
        assert "claimed by Eve" in api.calls_to("editMessageText")[-1]["text"]
        claimed_line = sent_to(api, PLAIN_GROUP)[-1]
        assert claimed_line["text"] == replies.claimed_by(1, "Eve")
        assert claimed_line["reply_parameters"]["message_id"] == post_id
        assert "Eve from our team has joined" in api.texts_to(CUSTOMER_CHAT)[-1]

        # replying to the bot's line (not the post) is still the case thread
        line_id = api.message_ids(PLAIN_GROUP)[-1]
        await tg.deliver(
            tg.updates.agent_replies_to(
                "/reply Try unplugging it", reply_to=line_id, chat=PLAIN_GROUP
            )
        )
        assert api.texts_to(CUSTOMER_CHAT)[-1] == "Eve (Support): Try unplugging it"
        eve_lookups = [p for p in api.calls_to("getChatMember") if p["user_id"] == str(EVE)]
        assert len(eve_lookups) == 1  # admin status is cached
    finally:
        await tg.close()


async def test_the_start_check_says_what_the_bot_is_missing(
    api: TelegramApi,
    migrated_url: str,
    clock: FrozenClock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    api.add_group(AGENT_GROUP, forum=True)
    api.set_member(AGENT_GROUP, BOT_ID, "member")
    caplog.set_level(logging.WARNING, logger="bot.adapters.telegram")
    tg = await open_desk(api, migrated_url, clock, tmp_path, AGENT_GROUP)
    await tg.close()
    assert "not an admin and privacy mode is on" in caplog.text
    assert "'Manage topics'" in caplog.text


async def test_an_unknown_group_is_reported_at_start(
    api: TelegramApi,
    migrated_url: str,
    clock: FrozenClock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.adapters.telegram")
    tg = await open_desk(api, migrated_url, clock, tmp_path, "-100999")
    await tg.close()
    assert "agent group -100999: the bot cannot open it" in caplog.text


async def test_with_privacy_mode_off_a_non_admin_bot_is_not_warned(
    api: TelegramApi,
    migrated_url: str,
    clock: FrozenClock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    api.can_read_all_group_messages = True
    api.add_group(AGENT_GROUP, forum=True)
    api.set_member(AGENT_GROUP, BOT_ID, "member")
    caplog.set_level(logging.WARNING, logger="bot.adapters.telegram")
    tg = await open_desk(api, migrated_url, clock, tmp_path, AGENT_GROUP)
    await tg.close()
    assert "privacy mode" not in caplog.text
    assert "'Manage topics'" in caplog.text


async def test_when_a_topic_cannot_be_created_the_case_lives_in_general(
    api: TelegramApi, migrated_url: str, clock: FrozenClock, tmp_path: Path
) -> None:
    api.add_group(AGENT_GROUP, forum=True)
    api.set_member(AGENT_GROUP, BOT_ID, "administrator", can_manage_topics=True)
    api.set_member(AGENT_GROUP, EVE, "creator")
    api.fail("createForumTopic", NOT_ENOUGH_RIGHTS)
    tg = await open_desk(api, migrated_url, clock, tmp_path, AGENT_GROUP)
    try:
        await open_case(tg)
        (post,) = sent_to(api, AGENT_GROUP)
        assert "New case #1" in post["text"] and "message_thread_id" not in post
        post_id = api.message_ids(AGENT_GROUP)[0]
        reply = tg.updates.agent_replies_to("/claim", reply_to=post_id, chat=AGENT_GROUP)
        await tg.deliver(reply)
        line = sent_to(api, AGENT_GROUP)[-1]
        assert line["text"] == replies.claimed_by(1, "Eve")
        assert line["reply_parameters"]["message_id"] == post_id
        assert "message_thread_id" not in line
    finally:
        await tg.close()


async def test_group_chat_id_in_the_roles_makes_every_member_an_agent(
    api: TelegramApi, migrated_url: str, clock: FrozenClock, tmp_path: Path
) -> None:
    api.add_group(PLAIN_GROUP, forum=False)
    api.set_member(PLAIN_GROUP, BOT_ID, "administrator")
    tg = await open_desk(
        api, migrated_url, clock, tmp_path, PLAIN_GROUP, agents=(f"group:{PLAIN_GROUP}",)
    )
    try:
        await open_case(tg)
        post_id = api.message_ids(PLAIN_GROUP)[0]
        claim = tg.updates.agent_replies_to("/claim", reply_to=post_id, chat=PLAIN_GROUP)
        claim["message"]["from"].update({"id": MALLORY, "first_name": "Mallory"})
        await tg.deliver(claim)
        assert sent_to(api, PLAIN_GROUP)[-1]["text"] == replies.claimed_by(1, "Mallory")
    finally:
        await tg.close()


async def test_without_topic_rights_cases_use_reply_chains_even_after_a_restart(
    api: TelegramApi, migrated_url: str, clock: FrozenClock, tmp_path: Path
) -> None:
    api.add_group(AGENT_GROUP, forum=True)
    api.set_member(AGENT_GROUP, BOT_ID, "administrator", can_manage_topics=False)
    api.set_member(AGENT_GROUP, EVE, "administrator")
    first = await open_desk(api, migrated_url, clock, tmp_path, AGENT_GROUP)
    try:
        await open_case(first)
    finally:
        await first.close()
    assert api.calls_to("createForumTopic") == []
    post_id = api.message_ids(AGENT_GROUP)[0]

    # a new process knows nothing of the chain: Telegram's "thread not found" teaches it
    second = await open_desk(api, migrated_url, clock, tmp_path, AGENT_GROUP)
    second.updates = first.updates
    try:
        claim = second.updates.agent_replies_to("/claim", reply_to=post_id, chat=AGENT_GROUP)
        await second.deliver(claim)
        line = sent_to(api, AGENT_GROUP)[-1]
        assert line["text"] == replies.claimed_by(1, "Eve")
        assert line["reply_parameters"]["message_id"] == post_id
        assert "Eve from our team has joined" in api.texts_to(CUSTOMER_CHAT)[-1]
        tried = [p.get("message_thread_id") for p in api.calls_to("sendMessage")]
        assert str(post_id) in tried  # the topic guess Telegram refused
    finally:
        await second.close()
