"""Telegram's own rules, as the stand-in enforces them, and how the desk speaks within them:

- a text over 4,096 UTF-16 units is refused ("Bad Request: message is too long", as the Bot
  API does): a long agent reply reaches the customer whole, in parts cut at paragraph breaks;
- a closed case closes its forum topic;
- commands typed as the escalation post hints them (no slash) work;
- files are not relayed: both sides are told, and the case records that one was received.

What the stand-in cannot prove: how clients render the parts; privacy mode (which group
messages a bot is sent).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select
from telegram.error import BadRequest

from bot.clock import FrozenClock
from bot.dialogs import replies
from bot.storage.models import CaseEvent
from tests.support.telegram_api import TelegramApi
from tests.support.telegram_desk import TelegramDesk, open_telegram_desk
from tests.support.telegram_updates import AGENT_GROUP, CUSTOMER_CHAT


@pytest.fixture
async def tg(
    api: TelegramApi, migrated_url: str, clock: FrozenClock, tmp_path: Path
) -> AsyncIterator[TelegramDesk]:
    desk = await open_telegram_desk(api, migrated_url, clock, tmp_path, mode="webhook")
    yield desk
    await desk.close()


async def open_case_in_topic(tg: TelegramDesk) -> int:
    """Ada asks for a person; Dana claims the case. Returns the case topic's id."""
    api, updates = tg.api, tg.updates
    await tg.deliver(updates.customer_says("I forgot my password"))
    card = api.message_ids(CUSTOMER_CHAT)[-1]
    await tg.deliver(updates.customer_clicks("human::", message_id=card))
    (topic,) = api.topics.values()
    topic_id = next(iter(topic))
    await tg.deliver(updates.agent_in_topic("/claim", topic=topic_id))
    return topic_id


async def test_a_reply_over_4096_characters_reaches_the_customer_whole(tg: TelegramDesk) -> None:
    topic = await open_case_in_topic(tg)
    paragraphs = [f"Step {n}: " + "check the cable and the power supply. " * 40 for n in range(7)]
    long_reply = "\n\n".join(paragraphs)  # about 10,500 characters
    before = len(tg.api.texts_to(CUSTOMER_CHAT))

    await tg.deliver(tg.updates.agent_in_topic(f"/reply {long_reply}", topic=topic))

    parts = tg.api.texts_to(CUSTOMER_CHAT)[before:]
    assert len(parts) == 4 and all(len(p) <= 4096 for p in parts)  # two paragraphs each
    assert not any(p.endswith("…") for p in parts)
    assert parts[0].startswith("Dana (Support): Step 0:")
    assert all(p.rstrip().endswith("power supply.") for p in parts)  # cut between paragraphs
    said = " ".join(" ".join(parts).split())
    assert said == " ".join(f"Dana (Support): {long_reply}".split())


async def test_the_stand_in_refuses_texts_telegram_refuses(tg: TelegramDesk) -> None:
    bot = tg.channel.bot
    with pytest.raises(BadRequest, match="Message is too long"):  # PTB drops "Bad Request: "
        await bot.send_message(chat_id=CUSTOMER_CHAT, text="x" * 4097)
    with pytest.raises(BadRequest, match="Message is too long"):  # emoji count twice
        await bot.send_message(chat_id=CUSTOMER_CHAT, text="😀" * 2049)
    with pytest.raises(BadRequest, match="caption is too long"):
        await bot.send_photo(chat_id=CUSTOMER_CHAT, photo="AgADBAAD", caption="y" * 1025)


async def test_a_closed_case_closes_its_topic(tg: TelegramDesk) -> None:
    topic = await open_case_in_topic(tg)
    await tg.deliver(tg.updates.customer_says("/close"))
    assert topic in tg.api.closed_topics[AGENT_GROUP]


async def test_commands_typed_as_the_post_shows_them_work_without_a_slash(
    tg: TelegramDesk,
) -> None:
    api, updates = tg.api, tg.updates
    await tg.deliver(updates.customer_says("I forgot my password"))
    card = api.message_ids(CUSTOMER_CHAT)[-1]
    await tg.deliver(updates.customer_clicks("human::", message_id=card))
    (post,) = api.texts_to(AGENT_GROUP)
    assert "claim 1 ·" in post  # the hint, without a slash

    await tg.deliver(updates.agent_says("claim 1"))  # in General, outside the case's topic
    assert "claimed by Dana" in api.calls_to("editMessageText")[-1]["text"]

    (topic,) = api.topics[AGENT_GROUP]
    await tg.deliver(updates.agent_in_topic("resolve 1", topic=topic))
    assert "has been resolved" in api.texts_to(CUSTOMER_CHAT)[-1]

    notes_before = len(api.texts_to(CUSTOMER_CHAT))
    await tg.deliver(updates.agent_in_topic("reply to this later, she seems upset", topic=topic))
    assert len(api.texts_to(CUSTOMER_CHAT)) == notes_before  # a note, never sent to her
    await tg.deliver(updates.agent_in_topic("note 2 things: cable, power", topic=topic))
    assert api.texts_to(AGENT_GROUP)[-1] == replies.note_saved(1)  # on this case, not #2


async def test_a_photo_with_a_caption_is_answered_and_the_customer_told_it_was_not_kept(
    tg: TelegramDesk,
) -> None:
    update = tg.updates.customer_sends("private_photo")
    update["message"]["caption"] = "I forgot my password"
    await tg.deliver(update)
    refusal, answer = tg.api.texts_to(CUSTOMER_CHAT)
    assert refusal == replies.ATTACHMENT_REFUSED
    assert "Reset your password" in answer  # the caption is the message


async def test_an_agent_file_without_words_is_noted_as_not_kept_and_the_agent_told(
    tg: TelegramDesk,
) -> None:
    topic = await open_case_in_topic(tg)
    update = tg.updates.agent_in_topic("placeholder", topic=topic)
    message = update["message"]
    del message["text"]
    message["document"] = {
        "file_name": "logs.zip",
        "mime_type": "application/zip",
        "file_id": "BQACAgQAAxkBAAIBd",
        "file_unique_id": "AgADxQ5",
        "file_size": 20480,
    }
    customer_lines = len(tg.api.texts_to(CUSTOMER_CHAT))
    await tg.deliver(update)

    told = tg.api.texts_to(AGENT_GROUP)[-2:]
    assert told == [replies.note_saved(1), replies.files_not_kept_for_agents(("logs.zip",))]
    assert len(tg.api.texts_to(CUSTOMER_CHAT)) == customer_lines
    async with tg.helpdesk.sessions() as session:
        bodies = list(await session.scalars(select(CaseEvent.body).where(CaseEvent.case_id == 1)))
    assert replies.files_not_kept(("logs.zip",)) in bodies
