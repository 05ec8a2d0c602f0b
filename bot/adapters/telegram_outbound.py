"""Sending kernel ``Outbound``s through the Bot API: posts, edits and forum topics.

- The escalation post (a POST with a ``title``, no thread, to an agent group) opens a forum
  topic named after the case when the group has topics and the bot may manage them; its
  ``SentRef.thread`` is the topic's ``message_thread_id``. Otherwise it is a plain message
  whose reply chain is the case thread.
- A line "in the thread" goes into the topic (``message_thread_id``) or answers the chain's
  root (``reply_parameters``). Where a topic was expected but Telegram says there is none
  (a case posted in General), it falls back to the reply chain; the chats known to hold such
  chains are only remembered to save that try, never needed to route anything.
- Which case a reply to a line of a chain belongs to is not kept here: the help desk records
  every line it delivered in a case thread in the database.
- Bot API errors are classified for the outbox (``telegram_render.send_error``).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import replace
from typing import Any

from telegram import Bot, ReplyParameters
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.adapters.telegram_checks import GroupStatus
from bot.adapters.telegram_inbound import PLATFORM
from bot.adapters.telegram_render import (
    NO_PREVIEW,
    fit_text,
    keyboard,
    readable,
    send_error,
    text_parts,
)
from bot.adapters.text_chunks import utf16_length
from bot.errors import PermanentSendError
from bot.messages import ChannelRef, Outbound, OutboundKind, SentRef

logger = logging.getLogger(__name__)

TOPIC_NAME_MAX = 128
ALERT_MAX = 200  # answerCallbackQuery text


class TelegramSender:
    def __init__(self, *, bot: Bot, agent_chats: Collection[str]) -> None:
        self._bot = bot
        self._agent_chats = agent_chats
        self.groups: dict[str, GroupStatus] = {}  # from the start-up check
        self._forums: dict[str, bool] = {}
        # reply-chain threads in forums: saves the topic try Telegram would refuse (a cache)
        self._chain_roots: set[tuple[str, str]] = set()

    def know_group(self, status: GroupStatus) -> None:
        self.groups[status.chat_id] = status
        if status.reachable:
            self._forums[status.chat_id] = status.is_forum

    async def send(self, outbound: Outbound) -> SentRef:
        try:
            match outbound.kind:
                case OutboundKind.EDIT:
                    return await self._edit(outbound)
                case OutboundKind.OPEN_THREAD:
                    return await self._open_topic(outbound)
                case OutboundKind.CLOSE_THREAD:
                    return await self._close_topic(outbound)
                case _:
                    return await self._post(outbound)
        except TelegramError as exc:
            raise send_error(exc) from exc

    async def _post(self, outbound: Outbound) -> SentRef:
        if outbound.private_to:
            return await self._post_privately(outbound)
        chat, thread = outbound.channel.channel, outbound.channel.thread
        escalation = thread is None and bool(outbound.title) and chat in self._agent_chats
        if escalation and await self._can_open_topics(chat):
            return await self._open_topic(outbound)
        if thread is None:
            ref = await self._send_text(chat, outbound)
            if escalation:  # no topic for this case: its reply chain is the case thread
                self._chain_roots.add((chat, ref.message_id))
            return ref
        if await self._is_forum(chat) and (chat, thread) not in self._chain_roots:
            try:
                return await self._send_text(chat, outbound, message_thread_id=int(thread))
            except BadRequest as exc:
                if "thread" not in exc.message.lower():
                    raise
                # a reply chain in General (its topic could not be created, or we restarted)
                self._chain_roots.add((chat, thread))
        return await self._send_text(
            chat,
            outbound,
            reply_parameters=ReplyParameters(int(thread), allow_sending_without_reply=True),
        )

    async def _post_privately(self, outbound: Outbound) -> SentRef:
        """Only ``private_to`` sees it: an alert answering their still-unanswered button click,
        else a message in their private chat with the bot. Where neither is possible (they
        never started the bot) it is said where they wrote, rather than not at all."""
        text = outbound.text.strip() or "…"
        if outbound.reply_token and utf16_length(text) <= ALERT_MAX:
            try:
                await self._bot.answer_callback_query(
                    outbound.reply_token, text=text, show_alert=True
                )
                return SentRef(PLATFORM, outbound.private_to, f"alert:{outbound.reply_token}")
            except BadRequest as exc:  # answered already, or too old
                logger.info("telegram: callback query gone (%s); answering in private", exc)
        try:
            in_private = ChannelRef(PLATFORM, outbound.private_to)
            return await self._send_text(
                outbound.private_to, replace(outbound, channel=in_private, private_to="")
            )
        except Forbidden as exc:  # "bot can't initiate conversation with a user"
            logger.info("telegram: no private chat with %s (%s)", outbound.private_to, exc)
        return await self._post(replace(outbound, private_to="", reply_token=""))

    async def _send_text(self, chat: str, outbound: Outbound, **where: Any) -> SentRef:
        """One message, or several for a text over Telegram's limit (the buttons go with the
        last). A post with buttons or a title is edited later, so it stays one message. The
        SentRef names the first message; later parts answer the same thread or chain."""
        text = readable(outbound.text, outbound.format)
        parts = [fit_text(text)] if outbound.buttons or outbound.title else text_parts(text)
        first: str | None = None
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            message = await self._bot.send_message(
                chat_id=chat,
                text=part,
                reply_markup=keyboard(outbound.buttons) if last else None,
                link_preview_options=NO_PREVIEW,
                **where,
            )
            first = first or str(message.message_id)
        assert first is not None
        topic = where.get("message_thread_id")
        return SentRef(
            PLATFORM, chat, first, str(topic) if topic is not None else outbound.channel.thread
        )

    async def _open_topic(self, outbound: Outbound) -> SentRef:
        chat = outbound.channel.channel
        name = (outbound.title or outbound.text or "Case")[:TOPIC_NAME_MAX]
        try:
            topic = await self._bot.create_forum_topic(chat, name)
        except BadRequest as exc:
            if outbound.kind == OutboundKind.OPEN_THREAD:
                raise
            logger.warning(
                "telegram: could not create a topic in %s (%s); posting in General", chat, exc
            )
            ref = await self._send_text(chat, outbound)
            self._chain_roots.add((chat, ref.message_id))
            return ref
        if not outbound.text:
            topic_id = str(topic.message_thread_id)
            return SentRef(PLATFORM, chat, topic_id, topic_id)
        return await self._send_text(chat, outbound, message_thread_id=topic.message_thread_id)

    async def _close_topic(self, outbound: Outbound) -> SentRef:
        chat, thread = outbound.channel.channel, outbound.channel.thread
        if thread is None:
            raise PermanentSendError("telegram: CLOSE_THREAD without a topic")
        if await self._is_forum(chat) and (chat, thread) not in self._chain_roots:
            try:
                await self._bot.close_forum_topic(chat, int(thread))
            except BadRequest as exc:  # a reply chain in General: no topic to close
                if "thread" not in exc.message.lower() and "topic" not in exc.message.lower():
                    raise
        return SentRef(PLATFORM, chat, thread, thread)

    async def _edit(self, outbound: Outbound) -> SentRef:
        ref = outbound.edit_of
        if ref is None:
            raise PermanentSendError("telegram: EDIT without the message to edit")
        try:
            await self._bot.edit_message_text(
                chat_id=ref.channel,
                message_id=int(ref.message_id),
                text=fit_text(outbound.text),
                reply_markup=keyboard(outbound.buttons),
                link_preview_options=NO_PREVIEW,
            )
        except BadRequest as exc:
            if "message is not modified" not in exc.message.lower():
                raise
        return ref

    async def _is_forum(self, chat: str) -> bool:
        if chat not in self._forums:
            if not chat.startswith("-"):
                return False  # private chats (positive ids) have no topics
            try:
                self._forums[chat] = bool((await self._bot.get_chat(chat)).is_forum)
            except TelegramError:
                return False
        return self._forums[chat]

    async def _can_open_topics(self, chat: str) -> bool:
        status = self.groups.get(chat)
        if status is not None and status.reachable:
            return status.is_forum and status.can_manage_topics
        return await self._is_forum(chat)
