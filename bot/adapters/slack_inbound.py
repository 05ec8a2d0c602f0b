"""Translation of Slack payloads (Events API callbacks, ``block_actions``, ``view_submission``,
slash commands) into kernel ``Inbound``s. Pure functions: no I/O. Message and command text
is left in Slack's wire form here (``<@U…>``, ``&amp;``); the adapter decodes it into plain
text (``slack_text.to_plain``) once the names it mentions are looked up, and fills in the
sender's display name and user groups. A command's or click's ``response_url`` becomes the
inbound's ``reply_token``: the way to answer that person privately.

Where a conversation lives:

- a DM (``channel_type: im``) is one conversation: ``ChannelRef("slack", "D…")``;
- in a shared channel the thread is the conversation: ``ChannelRef("slack", "C…", thread_ts)``
  (a top-level ``@bot`` mention starts one at its own ``ts``);
- in an agent channel a case thread is ``ChannelRef("slack", "C…", ts of the escalation post)``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from typing import Any

from bot.adapters.slack_blocks import (
    ACTION_PREFIX,
    ARTICLE_FIELDS,
    FORM_ACTION_PREFIX,
    REPLY_BLOCK_ID,
    REPLY_INPUT_ID,
)
from bot.messages import ChannelRef, Inbound, InboundKind, split_payload

PLATFORM = "slack"

# message subtypes that are still a person writing; edits, deletions, joins … are ignored
HANDLED_SUBTYPES = frozenset({"file_share", "thread_broadcast"})

_LEADING_MENTION = re.compile(r"^\s*<@([A-Z0-9]+)(?:\|[^>]*)?>[\s:,]*")

Body = Mapping[str, Any]


def strip_mention(text: str, bot_user_id: str | None) -> str:
    """Drop a leading ``<@BOT>`` (the way people address the bot) and surrounding blanks."""
    match = _LEADING_MENTION.match(text)
    if match and (bot_user_id is None or match.group(1) == bot_user_id):
        return text[match.end() :].strip()
    return text.strip()


def mentions(text: str, user_id: str | None) -> bool:
    return bool(user_id) and (f"<@{user_id}>" in text or f"<@{user_id}|" in text)


def _event_id(body: Body, event: Body) -> str:
    return str(body.get("event_id") or f"{event.get('channel')}:{event.get('ts')}")


def _files(event: Body) -> tuple[str, ...]:
    return tuple(str(f.get("name") or f.get("title") or "file") for f in event.get("files") or ())


def is_person_writing(event: Body) -> bool:
    """False for bots (our own posts included), edits, deletions, joins and other subtypes."""
    if event.get("bot_id") or event.get("subtype") == "bot_message":
        return False
    if event.get("subtype") and event.get("subtype") not in HANDLED_SUBTYPES:
        return False
    return bool(event.get("user"))


def from_message(
    body: Body, *, bot_user_id: str | None, agent_channels: Collection[str]
) -> Inbound | None:
    """A ``message`` event: a DM, a line in an agent channel, or a message in a thread of a
    shared channel — which belongs to the help desk only where it follows that thread
    (``in_shared_thread``: the adapter asks before handing it over). Top-level messages in
    shared channels are people talking among themselves and are left alone; mentions of the
    bot arrive as ``app_mention`` instead."""
    event: Body = body.get("event") or {}
    if not is_person_writing(event):
        return None
    channel, text = str(event.get("channel", "")), str(event.get("text") or "")
    thread = event.get("thread_ts")
    common: dict[str, Any] = {
        "kind": InboundKind.MESSAGE,
        "event_id": _event_id(body, event),
        "user_id": str(event["user"]),
        "attachments": _files(event),
        "raw": body,
    }
    if event.get("channel_type") == "im":
        return Inbound(
            channel=ChannelRef(PLATFORM, channel),
            text=strip_mention(text, bot_user_id),
            is_direct=True,
            **common,
        )
    if mentions(text, bot_user_id):
        return None  # handled once, as the app_mention event
    if channel in agent_channels:
        return Inbound(
            channel=ChannelRef(PLATFORM, channel, thread), text=text, is_direct=False, **common
        )
    if thread:
        return Inbound(
            channel=ChannelRef(PLATFORM, channel, str(thread)), text=text, is_direct=False, **common
        )
    return None


def in_shared_thread(inbound: Inbound, agent_channels: Collection[str]) -> bool:
    """A message in a thread of a shared channel (not a DM, not an agent channel)."""
    return (
        not inbound.is_direct
        and inbound.channel.thread is not None
        and inbound.channel.channel not in agent_channels
    )


def from_mention(
    body: Body, *, bot_user_id: str | None, agent_channels: Collection[str]
) -> Inbound | None:
    """``@bot …``: from an agent, a command (``@bot reply …`` in a case thread, ``@bot cases``);
    from anyone else, a customer message whose thread becomes the conversation."""
    event: Body = body.get("event") or {}
    if not is_person_writing(event):
        return None
    channel = str(event.get("channel", ""))
    text = strip_mention(str(event.get("text") or ""), bot_user_id)
    common: dict[str, Any] = {
        "event_id": _event_id(body, event),
        "user_id": str(event["user"]),
        "attachments": _files(event),
        "is_direct": False,
        "raw": body,
    }
    if channel in agent_channels:
        if not text:
            return None
        thread = event.get("thread_ts")
        return Inbound(
            kind=InboundKind.COMMAND,
            channel=ChannelRef(PLATFORM, channel, str(thread) if thread else None),
            text=text,
            **common,
        )
    thread = str(event.get("thread_ts") or event.get("ts"))
    return Inbound(
        kind=InboundKind.MESSAGE, channel=ChannelRef(PLATFORM, channel, thread), text=text, **common
    )


def from_command(body: Body) -> Inbound:
    """``/helpdesk <verb> …`` → a COMMAND with text ``"<verb> …"``."""
    channel = str(body.get("channel_id", ""))
    return Inbound(
        kind=InboundKind.COMMAND,
        event_id=f"command:{body.get('trigger_id')}",
        channel=ChannelRef(PLATFORM, channel),
        user_id=str(body.get("user_id", "")),
        text=str(body.get("text") or "").strip(),
        is_direct=channel.startswith("D"),
        reply_token=str(body.get("response_url") or ""),
        raw=body,
    )


def clicked_channel(body: Body, agent_channels: Collection[str]) -> ChannelRef:
    """Where a button was clicked: DMs are one conversation; in channels, the message's thread
    (an escalation post is the root of its own case thread)."""
    container: Body = body.get("container") or {}
    message: Body = body.get("message") or {}
    channel = str(container.get("channel_id") or (body.get("channel") or {}).get("id", ""))
    if channel.startswith("D"):
        return ChannelRef(PLATFORM, channel)
    thread = message.get("thread_ts") or container.get("thread_ts")
    if thread is None and channel in agent_channels:
        thread = message.get("ts") or container.get("message_ts")
    return ChannelRef(PLATFORM, channel, str(thread) if thread else None)


def from_action(body: Body, action: Body, agent_channels: Collection[str]) -> Inbound | None:
    """A button click (``block_actions``) → ACTION with ``action`` = verb, ``value`` = case:arg."""
    action_id = str(action.get("action_id", ""))
    if not action_id.startswith((ACTION_PREFIX, FORM_ACTION_PREFIX)):
        return None
    payload = str(action.get("value") or "")
    verb, case, arg = split_payload(payload)
    user: Body = body.get("user") or {}
    channel = clicked_channel(body, agent_channels)
    return Inbound(
        kind=InboundKind.ACTION,
        event_id=f"action:{user.get('id')}:{action.get('action_ts') or body.get('trigger_id')}",
        channel=channel,
        user_id=str(user.get("id", "")),
        action=verb,
        value=f"{case}:{arg}",
        is_direct=channel.channel.startswith("D"),
        reply_token=str(body.get("response_url") or ""),
        raw=body,
    )


def from_view(body: Body) -> Inbound | None:
    """The Reply modal's ``view_submission`` → FORM with fields ``case`` and ``text``."""
    modal = _modal(body)
    if modal is None:
        return None
    values, meta = modal
    text = str(((values.get(REPLY_BLOCK_ID) or {}).get(REPLY_INPUT_ID) or {}).get("value") or "")
    fields = {"case": str(meta.get("case", "")), "text": text.strip()}
    return _form(body, meta, "reply", fields)


def from_article_view(body: Body) -> Inbound | None:
    """The article modal's ``view_submission`` → FORM ``kb`` with fields ``title``, ``body``,
    ``questions`` and, for an edit, ``slug``."""
    modal = _modal(body)
    if modal is None:
        return None
    values, meta = modal
    fields = {
        name: str(((values.get(name) or {}).get(name) or {}).get("value") or "")
        for name in ARTICLE_FIELDS
    }
    return _form(body, meta, "kb", {**fields, "slug": str(meta.get("slug") or "")})


def _modal(body: Body) -> tuple[Body, Body] | None:
    """A submitted modal's input values and the ``private_metadata`` the bot put in it when it
    opened the modal (which channel, thread and case it is about); None when that is missing
    or not the bot's."""
    view: Body = body.get("view") or {}
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        return None
    if not isinstance(meta, dict) or not meta.get("channel"):
        return None
    values: Body = (view.get("state") or {}).get("values") or {}
    return values, meta


def _form(body: Body, meta: Body, action: str, fields: dict[str, str]) -> Inbound:
    view: Body = body.get("view") or {}
    user: Body = body.get("user") or {}
    thread = meta.get("thread")
    return Inbound(
        kind=InboundKind.FORM,
        event_id=f"view:{view.get('id')}:{view.get('hash', '')}",
        channel=ChannelRef(PLATFORM, str(meta["channel"]), str(thread) if thread else None),
        user_id=str(user.get("id", "")),
        action=action,
        fields=fields,
        is_direct=False,
        raw=body,
    )
