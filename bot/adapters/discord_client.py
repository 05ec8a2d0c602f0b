"""The discord.py client behind the Discord adapter: it listens and translates, nothing else.

Messages from bots (the help desk's own included) are skipped. In a support channel the client
starts a thread from the customer's message and the thread becomes the conversation, so the
channel stays clean. Button clicks and modal submissions arrive through ``discord_ui``.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands

from bot.adapters.discord_inbound import (
    PLATFORM,
    agent_command,
    interaction_inbound,
    is_direct,
    message_inbound,
    ref_of,
    strip_leading_mention,
)
from bot.adapters.discord_ui import PayloadButton, handle_form_submission
from bot.messages import AgentGate, ChannelRef, InboundHandler, InboundKind, split_payload
from bot.metrics import ADAPTER_RECONNECTS

logger = logging.getLogger(__name__)

THREAD_NAME_MAX = 90
_HANDLED_TYPES = (discord.MessageType.default, discord.MessageType.reply)


def intents() -> discord.Intents:
    """Guild messages and DMs with their text (MESSAGE_CONTENT, privileged) and members (for
    role ids)."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.guild_messages = True
    wanted.dm_messages = True
    wanted.message_content = True
    wanted.members = True
    return wanted


class HelpdeskClient(discord.Client):
    def __init__(
        self, *, agent_channels: frozenset[str], sync_commands: bool = True, **options: Any
    ) -> None:
        super().__init__(
            intents=intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            max_ratelimit_timeout=30.0,  # longer waits surface as RateLimited: the outbox retries
            **options,
        )
        self.agent_channels = agent_channels
        self.sync_commands = sync_commands  # registers /helpdesk with Discord at start
        self.tree: app_commands.CommandTree[HelpdeskClient] = app_commands.CommandTree(self)
        self.on_inbound: InboundHandler | None = None
        self.agent_gate: AgentGate | None = None
        self.helpdesk_handlers = (self._clicked, self._submitted, self._may_open_form)
        self._sessions_started = 0

    async def setup_hook(self) -> None:
        # Every payload-shaped custom_id, on old messages too: buttons survive restarts.
        self.add_dynamic_items(PayloadButton)
        self.tree.add_command(self._helpdesk_command())
        if self.sync_commands:
            await self.tree.sync()

    def _helpdesk_command(self) -> app_commands.Command[Any, Any, None]:
        """``/helpdesk <command>``: any help-desk verb (``status``, ``reply Hello``, ``claim 12``),
        in DMs, support threads and case threads alike."""

        @app_commands.command(name="helpdesk", description="Run a help desk command")
        @app_commands.describe(command="e.g. status, reply <text>, claim 12, cases mine")
        @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)
        async def helpdesk(interaction: discord.Interaction[Any], command: str) -> None:
            await self._slash(interaction, command)

        return helpdesk

    async def _slash(self, interaction: discord.Interaction[Any], command: str) -> None:
        # A slash command must be answered within 3 s: "thinking…" (seen by the asker only).
        # In a shared support channel the desk answers the asker privately, and that answer
        # replaces the placeholder; elsewhere answers arrive as ordinary messages, so the
        # placeholder is removed once the command is handed over.
        await interaction.response.defer(ephemeral=True, thinking=True)
        ref = await self._interaction_ref(interaction)
        answered_privately = not is_direct(interaction.channel) and not self._is_agent_ref(ref)
        try:
            if self.on_inbound is not None:
                await self.on_inbound(
                    interaction_inbound(
                        interaction,
                        ref,
                        kind=InboundKind.COMMAND,
                        text=command.strip().removeprefix("/"),
                    )
                )
        finally:
            if not answered_privately:
                await interaction.delete_original_response()

    async def on_connect(self) -> None:
        """A new gateway session (READY): after the first one, a reconnect."""
        if self._sessions_started:
            ADAPTER_RECONNECTS.labels(platform="discord").inc()
        self._sessions_started += 1

    async def on_resumed(self) -> None:
        """The gateway session resumed after a dropped connection."""
        ADAPTER_RECONNECTS.labels(platform="discord").inc()

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        """Submitted forms are handled here, from the interaction alone, in any process."""
        await handle_form_submission(interaction)

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or message.type not in _HANDLED_TYPES or self.on_inbound is None:
            return
        me = self.user.id if self.user else None
        text, addressed = strip_leading_mention(message.content, me)
        mentioned = addressed or any(user.id == me for user in message.mentions)
        channel = message.channel
        if isinstance(channel, discord.DMChannel):
            ref: ChannelRef | None = ChannelRef(PLATFORM, str(channel.id))
        elif self._is_agent_channel(channel):
            command = agent_command(text, addressed=addressed)
            inbound = message_inbound(
                message,
                ref_of(channel),
                text=command if command is not None else text,
                kind=InboundKind.COMMAND if command is not None else InboundKind.MESSAGE,
            )
            await self.on_inbound(inbound)
            return
        elif isinstance(channel, discord.Thread):
            ours = me is not None and channel.owner_id == me
            ref = ref_of(channel) if ours or mentioned else None
        elif isinstance(channel, discord.TextChannel) and mentioned:
            ref = await self._support_thread(message, text)
        else:
            ref = None
        if ref is None:
            return
        await self.on_inbound(message_inbound(message, ref, text=text, kind=InboundKind.MESSAGE))

    def _is_agent_ref(self, ref: ChannelRef) -> bool:
        return str(ref.without_thread) in self.agent_channels

    def _is_agent_channel(self, channel: Any) -> bool:
        parent = channel.parent_id if isinstance(channel, discord.Thread) else channel.id
        return f"{PLATFORM}:{parent}" in self.agent_channels

    async def _support_thread(self, message: discord.Message, text: str) -> ChannelRef:
        """Start the conversation's thread from the customer's message (same id as it)."""
        name = " ".join(text.split())[:THREAD_NAME_MAX] or display_or_id(message)
        try:
            thread = await message.create_thread(name=name)
        except discord.HTTPException as exc:  # no permission to create threads: answer inline
            logger.warning(
                "could not start a thread in discord channel %s (%s); answering in the channel",
                message.channel.id,
                exc.status,
            )
            return ChannelRef(PLATFORM, str(message.channel.id))
        return ChannelRef(PLATFORM, str(message.channel.id), str(thread.id))

    async def _interaction_ref(self, interaction: discord.Interaction[Any]) -> ChannelRef:
        channel: Any = interaction.channel
        if isinstance(channel, discord.PartialMessageable) and channel.type in (
            None,
            discord.ChannelType.public_thread,
            discord.ChannelType.private_thread,
        ):  # not cached: ask Discord whether it is a thread, and of which channel
            channel = await self.fetch_channel(channel.id)
        return ref_of(channel)

    def _may_open_form(self, interaction: discord.Interaction[Any], payload: str) -> bool:
        """Agent forms open for agents only; anyone else's click goes to the desk as a click,
        which refuses it privately (the modal would have to be the first answer)."""
        if self.agent_gate is None:
            return True
        verb, case, arg = split_payload(payload)
        probe = interaction_inbound(
            interaction,
            ChannelRef(PLATFORM, str(interaction.channel_id)),
            kind=InboundKind.ACTION,
            action=verb,
            value=f"{case}:{arg}",
        )
        return self.agent_gate(probe)

    async def _clicked(self, interaction: discord.Interaction[Any], payload: str) -> None:
        if self.on_inbound is None:
            return
        verb, case, arg = split_payload(payload)
        await self.on_inbound(
            interaction_inbound(
                interaction,
                await self._interaction_ref(interaction),
                kind=InboundKind.ACTION,
                action=verb,
                value=f"{case}:{arg}",
            )
        )

    async def _submitted(
        self,
        interaction: discord.Interaction[Any],
        payload: str,
        text: str,
        article: dict[str, str],
    ) -> None:
        if self.on_inbound is None:
            return
        verb, case, arg = split_payload(payload)
        fields = {"case": case, "text": text}
        if verb == "kb":  # the article form; an edit names its article in the payload
            op, _, slug = arg.partition(" ")
            fields = {**article, "slug": slug if op == "edit" else ""}
        await self.on_inbound(
            interaction_inbound(
                interaction,
                await self._interaction_ref(interaction),
                kind=InboundKind.FORM,
                action=verb,
                fields=fields,
            )
        )


def display_or_id(message: discord.Message) -> str:
    return message.author.display_name or str(message.author.id)
