"""Translating Telegram updates into kernel ``Inbound``s (no I/O here).

- Private chats are customer conversations; configured agent groups are the agents' side.
- ``/verb args``, ``/verb@thisbot args`` and, in agent groups, ``@thisbot verb args`` become
  COMMAND inbounds with text ``verb args``; commands addressed to another bot
  (``/start@otherbot``) are ignored.
- A button (``callback_query``) becomes an ACTION: ``verb:case:arg`` → action ``verb``, value
  ``case:arg``.
- In an agent group a message belongs to a case thread: the forum topic
  (``message_thread_id`` of a topic message) or, in a plain group, the reply chain of the
  escalation post: the thread is the message replied to (``reply_to_message.message_id``), the
  post or any line of its chain; the help desk finds the case from it in the database.
- Photos and files are handed over by name / kind in ``attachments``; the core answers them.
- Event ids are ``msg:<chat>:<message_id>`` and ``cb:<callback id>``: unique per bot and stable
  across redeliveries and across polling and webhook mode.
"""

from __future__ import annotations

from collections.abc import Collection

from telegram import CallbackQuery, Message, Update

from bot.messages import ChannelRef, Inbound, InboundKind, split_payload

PLATFORM = "telegram"


def translate(
    update: Update,
    *,
    bot_id: int,
    bot_username: str,
    agent_chats: Collection[str],
) -> Inbound | None:
    """The Inbound for ``update``, or None for updates the help desk does not handle (edits,
    service messages, other bots, commands meant for another bot)."""
    if update.callback_query is not None:
        return _button(update.callback_query, agent_chats=agent_chats)
    message = update.message
    if message is None or message.from_user is None:
        return None
    if message.from_user.is_bot or message.from_user.id == bot_id:
        return None
    chat_id = str(message.chat.id)
    is_direct = message.chat.type == "private"
    if not is_direct and chat_id not in agent_chats:
        return None  # a group the bot was added to that is not an agent group
    text = message.text or message.caption or ""
    attachments = _attachments(message)
    if not text and not attachments:
        return None  # joins, pins, topic created… — service messages
    kind = InboundKind.MESSAGE
    if text.startswith("/"):
        command = _command_text(text, bot_username)
        if command is None:
            return None
        kind, text = InboundKind.COMMAND, command
    elif not is_direct and _addressed(text, bot_username):
        # "@thisbot reply hi" is a command to the bot, like "/reply hi"
        kind, text = InboundKind.COMMAND, text[len(bot_username) + 1 :].lstrip(" ,:")
    thread = None if is_direct else _thread_of(message)
    return Inbound(
        kind=kind,
        event_id=f"msg:{chat_id}:{message.message_id}",
        channel=ChannelRef(PLATFORM, chat_id, thread),
        user_id=str(message.from_user.id),
        user_name=message.from_user.full_name,
        text=text,
        is_direct=is_direct,
        attachments=attachments,
        received_at=message.date,
        raw=update.to_dict(),
    )


def _button(query: CallbackQuery, *, agent_chats: Collection[str]) -> Inbound | None:
    message = query.message
    if not query.data or message is None or query.from_user.is_bot:
        return None
    chat_id = str(message.chat.id)
    is_direct = message.chat.type == "private"
    if not is_direct and chat_id not in agent_chats:
        return None
    thread = None
    if not is_direct and isinstance(message, Message):
        # the escalation post's own buttons: its topic, or the post itself as the chain root
        thread = _thread_of(message) or str(message.message_id)
    verb, case, arg = split_payload(query.data)
    return Inbound(
        kind=InboundKind.ACTION,
        event_id=f"cb:{query.id}",
        channel=ChannelRef(PLATFORM, chat_id, thread),
        user_id=str(query.from_user.id),
        user_name=query.from_user.full_name,
        action=verb,
        value=f"{case}:{arg}",
        is_direct=is_direct,
        reply_token=query.id,  # answerCallbackQuery: a private alert to the clicker
        raw=query.to_dict(),
    )


def _thread_of(message: Message) -> str | None:
    if message.is_topic_message and message.message_thread_id is not None:
        return str(message.message_thread_id)
    replied = message.reply_to_message
    return str(replied.message_id) if replied is not None else None


def _command_text(text: str, bot_username: str) -> str | None:
    """``/reply@thisbot hi`` → ``reply hi``; None when addressed to another bot."""
    head, _, rest = text[1:].partition(" ")
    verb, at, addressee = head.partition("@")
    if at and addressee.lower() != bot_username.lower():
        return None
    return f"{verb} {rest.strip()}".strip()


def _addressed(text: str, bot_username: str) -> bool:
    mention = f"@{bot_username}"
    return bool(bot_username) and text[: len(mention)].lower() == mention.lower()


def _attachments(message: Message) -> tuple[str, ...]:
    names: list[str] = []
    if message.document is not None:
        names.append(message.document.file_name or "document")
    if message.photo:
        names.append("photo")
    for kind in ("video", "voice", "audio", "animation", "video_note", "sticker"):
        if getattr(message, kind, None) is not None:
            names.append(kind.replace("_", " "))
    return tuple(names)
