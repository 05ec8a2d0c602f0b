"""Telegram updates for tests, built from the documented payloads in tests/fixtures/telegram/.

Each builder copies a recorded shape and changes only what a test varies (text, ids, thread),
so every update PTB parses in the tests has the real structure.
"""

from __future__ import annotations

import copy
import itertools
import json
from functools import cache
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "telegram"
CUSTOMER_CHAT = "4242"
AGENT_GROUP = "-100123"


@cache
def _fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def fixture(name: str) -> dict[str, Any]:
    return copy.deepcopy(_fixture(name))


def _set_text(message: dict[str, Any], text: str) -> None:
    message["text"] = text
    message.pop("entities", None)
    if text.startswith("/"):
        command = text.split(" ", 1)[0]
        message["entities"] = [{"offset": 0, "length": len(command), "type": "bot_command"}]


class Updates:
    """Fresh update and message ids for every update a test builds."""

    def __init__(self) -> None:
        self._update_ids = itertools.count(10)
        self._message_ids = itertools.count(100)
        self._callback_ids = itertools.count(1)

    def _message_update(self, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
        update = fixture(name)
        update["update_id"] = next(self._update_ids)
        message = update["message"]
        message["message_id"] = next(self._message_ids)
        return update, message

    def customer_says(self, text: str) -> dict[str, Any]:
        update, message = self._message_update("private_message")
        _set_text(message, text)
        return update

    def customer_sends(self, name: str) -> dict[str, Any]:
        """A photo or document (``private_photo`` / ``private_document``)."""
        return self._message_update(name)[0]

    def _click(self, name: str, data: str, message_id: int | str) -> dict[str, Any]:
        update = fixture(name)
        update["update_id"] = next(self._update_ids)
        query = update["callback_query"]
        query["id"] = f"cbq{next(self._callback_ids)}"
        query["data"] = data
        query["message"]["message_id"] = int(message_id)
        return update

    def customer_clicks(self, data: str, *, message_id: int | str) -> dict[str, Any]:
        return self._click("private_callback_query", data, message_id)

    def agent_clicks(
        self,
        data: str,
        *,
        message_id: int | str,
        topic: int | str | None,
        chat: str = AGENT_GROUP,
        user: int = 777,
        name: str = "Dana",
    ) -> dict[str, Any]:
        update = self._click("group_callback_query", data, message_id)
        query = update["callback_query"]
        query["from"].update({"id": user, "first_name": name})
        message = query["message"]
        message["chat"]["id"] = int(chat)
        if topic is None:
            message.pop("message_thread_id")
            message.pop("is_topic_message")
            message["chat"].pop("is_forum")
        else:
            message["message_thread_id"] = int(topic)
        return update

    def agent_in_topic(
        self, text: str, *, topic: int | str, user: int = 777, name: str = "Dana"
    ) -> dict[str, Any]:
        update, message = self._message_update("topic_message")
        _set_text(message, text)
        message["message_thread_id"] = int(topic)
        message["reply_to_message"]["message_id"] = int(topic)
        message["reply_to_message"]["message_thread_id"] = int(topic)
        message["from"].update({"id": user, "first_name": name})
        return update

    def agent_says(
        self, text: str, *, chat: str = AGENT_GROUP, user: int = 777, name: str = "Dana"
    ) -> dict[str, Any]:
        """A message in the group itself (General in a forum): no topic, no reply."""
        update, message = self._message_update("group_reply")
        _set_text(message, text)
        message["chat"]["id"] = int(chat)
        message.pop("reply_to_message")
        message.pop("message_thread_id", None)
        message.pop("is_topic_message", None)
        message["from"].update({"id": user, "first_name": name})
        return update

    def agent_replies_to(
        self, text: str, *, reply_to: int | str, chat: str, user: int = 888, name: str = "Eve"
    ) -> dict[str, Any]:
        update, message = self._message_update("group_reply")
        _set_text(message, text)
        message["chat"]["id"] = int(chat)
        message["reply_to_message"]["chat"]["id"] = int(chat)
        message["reply_to_message"]["message_id"] = int(reply_to)
        message["from"].update({"id": user, "first_name": name})
        return update
