"""Translating Telegram's documented update payloads (tests/fixtures/telegram/) into the help
desk's Inbounds: what reaches the core, as what kind, in which thread — and what is ignored.
Pure: PTB parses the payloads, nothing is sent."""

from __future__ import annotations

from typing import Any

from telegram import Update

from bot.adapters.telegram_inbound import translate
from bot.messages import ChannelRef, Inbound, InboundKind
from tests.support.telegram_api import BOT_ID, BOT_USERNAME
from tests.support.telegram_updates import AGENT_GROUP, Updates, fixture


def inbound(data: dict[str, Any]) -> Inbound | None:
    return translate(
        Update.de_json(data, None),
        bot_id=BOT_ID,
        bot_username=BOT_USERNAME,
        agent_chats={AGENT_GROUP, "-100456"},
    )


def test_a_private_message_is_a_customer_message() -> None:
    got = inbound(fixture("private_message"))
    assert got is not None
    assert (got.kind, got.text, got.channel) == (
        InboundKind.MESSAGE,
        "I forgot my password",
        ChannelRef("telegram", "4242"),
    )
    assert (got.event_id, got.user_id, got.user_name, got.is_direct) == (
        "msg:4242:77",
        "4242",
        "Ada Lovelace",
        True,
    )


def test_slash_commands_become_commands_with_the_bot_name_stripped() -> None:
    start = inbound(fixture("private_command"))
    assert start is not None and (start.kind, start.text) == (InboundKind.COMMAND, "start")
    reply = inbound(fixture("topic_message"))
    assert reply is not None
    assert (reply.kind, reply.text) == (InboundKind.COMMAND, "reply Hello Ada")
    assert reply.channel == ChannelRef("telegram", AGENT_GROUP, "70") and not reply.is_direct


def test_a_mention_of_the_bot_in_a_topic_is_a_command() -> None:
    got = inbound(Updates().agent_in_topic("@helpdesk_test_bot reply on my way", topic=70))
    assert got is not None and (got.kind, got.text) == (InboundKind.COMMAND, "reply on my way")


def test_plain_words_in_a_topic_stay_a_message_of_that_thread() -> None:
    got = inbound(Updates().agent_in_topic("called them, no answer", topic=71))
    assert got is not None
    assert (got.kind, got.text, got.channel.thread) == (
        InboundKind.MESSAGE,
        "called them, no answer",
        "71",
    )


def test_a_reply_in_a_plain_group_names_the_message_it_answers() -> None:
    # the post or any line of its chain: the help desk finds the case from it
    data = Updates().agent_replies_to("/note ok", reply_to=612, chat="-100456")
    plain = inbound(data)
    assert plain is not None and plain.channel.thread == "612"


def test_buttons_become_actions() -> None:
    got = inbound(fixture("group_callback_query"))
    assert got is not None
    assert (got.kind, got.action, got.value, got.event_id) == (
        InboundKind.ACTION,
        "claim",
        "1:",
        "cb:4382bfdwdsb323b2e1",
    )
    assert got.channel == ChannelRef("telegram", AGENT_GROUP, "70")


def test_attachments_are_named() -> None:
    photo = inbound(fixture("private_photo"))
    document = inbound(fixture("private_document"))
    assert photo is not None and photo.attachments == ("photo",)
    assert document is not None and document.attachments == ("invoice.pdf",)


def test_what_the_desk_does_not_handle_is_ignored() -> None:
    other_bot = Updates().agent_in_topic("/start@some_other_bot", topic=70)
    from_a_bot = fixture("private_message")
    from_a_bot["message"]["from"]["is_bot"] = True
    elsewhere = fixture("group_reply")
    elsewhere["message"]["chat"]["id"] = -100777  # a group that is not an agent group
    service = fixture("topic_message")
    service["message"] = {  # "Dana created the topic": a service message, no text
        **service["message"]["reply_to_message"],
        "message_id": 71,
        "from": service["message"]["from"],
    }
    for data in (other_bot, from_a_bot, elsewhere, service):
        assert inbound(data) is None
