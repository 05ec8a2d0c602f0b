"""Translating Discord events into ``Inbound``: who spoke, where, and what kind of thing it was.

Where a message belongs:

- a DM → the customer's conversation ``discord:<dm channel>``;
- a queue (agent) channel or a thread under it → the agents' desk ``discord:<channel>[/<thread>]``;
- any other guild channel where the bot is mentioned → a support channel: the conversation is a
  thread started from the customer's message ``discord:<channel>/<thread>`` (the client starts
  it); later messages in a thread the bot started need no mention.
"""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.commands import VERBS
from bot.messages import ChannelRef, Inbound, InboundKind

PLATFORM = "discord"
_COMMAND_PREFIXES = ("/", "!")


def strip_leading_mention(text: str, bot_id: int | None) -> tuple[str, bool]:
    """Remove ``<@bot>`` (or ``<@!bot>``) at the start; say whether it was there."""
    if bot_id is None:
        return text.strip(), False
    match = re.match(rf"\s*<@!?{bot_id}>\s*", text)
    if match is None:
        return text.strip(), False
    return text[match.end() :].strip(), True


def agent_command(text: str, *, addressed: bool) -> str | None:
    """``/reply hi``, ``!reply hi`` or ``@bot reply hi`` → ``"reply hi"``; None for anything
    else (which the desk keeps as an internal note in a case thread)."""
    body = text
    if body.startswith(_COMMAND_PREFIXES):
        body = body[1:]
    elif not addressed:
        return None
    verb = body.split(maxsplit=1)[0].lower() if body.strip() else ""
    return body.strip() if verb in VERBS else None


def member_groups(user: discord.abc.User | discord.Member) -> tuple[str, ...]:
    """The member's role ids (without @everyone), for ``group:<role id>`` role checks."""
    if not isinstance(user, discord.Member):
        return ()
    return tuple(str(role.id) for role in user.roles if not role.is_default())


def display_name(user: discord.abc.User | discord.Member) -> str:
    return user.display_name or user.name


def ref_of(channel: Any) -> ChannelRef:
    """The ChannelRef of a DM, a guild channel or a thread (threads carry their parent)."""
    if isinstance(channel, discord.Thread):
        return ChannelRef(PLATFORM, str(channel.parent_id), str(channel.id))
    return ChannelRef(PLATFORM, str(channel.id))


def is_direct(channel: Any) -> bool:
    return isinstance(channel, discord.DMChannel | discord.GroupChannel)


def message_inbound(
    message: discord.Message, channel: ChannelRef, *, text: str, kind: InboundKind
) -> Inbound:
    return Inbound(
        kind=kind,
        event_id=str(message.id),
        channel=channel,
        user_id=str(message.author.id),
        user_name=display_name(message.author),
        text=text,
        is_direct=is_direct(message.channel),
        attachments=tuple(a.filename for a in message.attachments),
        groups=member_groups(message.author),
        received_at=message.created_at,
        raw={
            "message_id": str(message.id),
            "channel_id": str(message.channel.id),
            "guild_id": str(message.guild.id) if message.guild else None,
        },
    )


def interaction_inbound(
    interaction: discord.Interaction[Any],
    channel: ChannelRef,
    *,
    kind: InboundKind,
    text: str = "",
    action: str = "",
    value: str = "",
    fields: dict[str, str] | None = None,
) -> Inbound:
    return Inbound(
        kind=kind,
        event_id=str(interaction.id),
        channel=channel,
        user_id=str(interaction.user.id),
        user_name=display_name(interaction.user),
        text=text,
        action=action,
        value=value,
        fields=fields or {},
        is_direct=is_direct(interaction.channel),
        groups=member_groups(interaction.user),
        received_at=interaction.created_at,
        reply_token=interaction.token,  # for a private (ephemeral) answer, valid 15 minutes
        raw={
            "interaction_id": str(interaction.id),
            "channel_id": str(interaction.channel_id),
            "message_id": str(interaction.message.id) if interaction.message else None,
        },
    )
