"""The Discord adapter (discord.py): customers in DMs and support channels, agents in threads.

- Customers write in a DM, or mention the bot in any guild channel that is not a queue channel;
  there the conversation moves into a thread started from their message.
- An escalation post (a POST with a ``title``) to a queue channel gets a thread started from it;
  its SentRef is ``(post id, thread id)`` — Discord gives the thread the post's id.
- Buttons are persistent components whose ``custom_id`` is the payload (see ``discord_ui``).
- Everything is sent with ``AllowedMentions.none()``: relayed text pings nobody.
- Errors: 429 / RateLimited / 5xx / network → ``RetryableSendError``; Forbidden, NotFound and
  other 4xx → ``PermanentSendError`` — with ``recipient_gone`` for 403 code 50007 (the person
  closed their DMs or blocked the bot), so later messages to them are parked untried.

``DISCORD_API_URL`` / ``DISCORD_GATEWAY_URL`` point discord.py at a local stand-in.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from dataclasses import replace
from typing import Any, Literal, Protocol

import aiohttp
import discord
import yarl

from bot.adapters.discord_client import HelpdeskClient
from bot.adapters.discord_inbound import PLATFORM
from bot.adapters.discord_ui import view_for
from bot.adapters.text_chunks import split_text
from bot.config import Settings, load_desk_config
from bot.errors import PermanentSendError, RetryableSendError
from bot.messages import (
    AdapterNotices,
    AgentGate,
    Capabilities,
    ChannelRef,
    InboundHandler,
    Outbound,
    OutboundKind,
    SentRef,
)

logger = logging.getLogger(__name__)

MESSAGE_MAX = 2000  # Discord's limit on message content
THREAD_NAME_MAX = 100
# 403 code 50007: the person closed their DMs to the server's members or blocked the bot
CANNOT_MESSAGE_USER = 50007
AUTHENTICATION_FAILED = 4004  # gateway close code
UNKNOWN_CHANNEL = 10003
ARCHIVE_AFTER_MINUTES: Literal[10080] = 10080  # a case thread stays listed for a week of quiet


class Connector(Protocol):
    """How the client reaches Discord: the gateway in production, a simulator in tests."""

    failure: str | None  # why the connection ended for good, once it has

    async def open(self, client: discord.Client) -> None: ...

    async def close(self, client: discord.Client) -> None: ...

    async def wait_lost(self) -> None: ...


class GatewayConnector:
    """Log in, hold the gateway connection in a task, return once READY.

    discord.py reconnects by itself after network trouble; a close Discord means for good
    (4004 authentication failed, 4014 disallowed intents) ends the task. That is logged with
    what to do, recorded in ``failure`` (the health check reports it) and raised from
    ``wait_lost`` — ``helpdesk run`` waits on it and exits non-zero, so a supervisor sees it."""

    def __init__(self, token: str) -> None:
        self._token = token
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.failure: str | None = None

    async def open(self, client: discord.Client) -> None:
        await client.login(self._token)
        self._task = asyncio.create_task(client.connect(reconnect=True))
        self._task.add_done_callback(self._ended)
        ready = asyncio.create_task(client.wait_until_ready())
        done, _ = await asyncio.wait({self._task, ready}, return_when=asyncio.FIRST_COMPLETED)
        if self._task in done:
            ready.cancel()
            self._task.result()  # raises why the connection ended (bad token, intents …)

    def _ended(self, task: asyncio.Task[None]) -> None:
        if self._closing or task.cancelled():
            return
        self.failure = gateway_end(task.exception())
        logger.error("discord: %s. The bot is offline until it is restarted.", self.failure)

    async def wait_lost(self) -> None:
        """Return when the connection ended without an error; raise why it ended otherwise.
        Cancelling the wait leaves the connection alone."""
        if self._task is None:
            await asyncio.Event().wait()
            return
        await asyncio.wait({self._task})
        self._task.result()

    async def close(self, client: discord.Client) -> None:
        self._closing = True
        await client.close()
        if self._task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await self._task


def gateway_end(exc: BaseException | None) -> str:
    """Why the gateway connection ended, in words an operator can act on."""
    if isinstance(exc, discord.PrivilegedIntentsRequired):
        return (
            "Discord refused the bot's privileged intents (close 4014): enable MESSAGE CONTENT "
            "and SERVER MEMBERS INTENT for the bot in the Developer Portal"
        )
    code = exc.code if isinstance(exc, discord.ConnectionClosed) else None
    if code == AUTHENTICATION_FAILED or isinstance(exc, discord.LoginFailure):
        return (
            "Discord rejected DISCORD_TOKEN (close 4004, authentication failed): copy the bot "
            "token again from the Developer Portal"
        )
    if code is not None:
        return f"the Discord gateway closed the connection for good (close code {code})"
    if exc is None:
        return "the Discord gateway connection ended"
    return f"the Discord gateway connection ended: {type(exc).__name__}: {exc}"


class DiscordChannel:
    platform = PLATFORM
    capabilities = Capabilities(threads=True, edits=True, buttons=True, forms=True, files=False)

    def __init__(
        self, *, connector: Connector, agent_channels: frozenset[str], listen: bool = True
    ) -> None:
        self._connector = connector
        self.client = HelpdeskClient(agent_channels=agent_channels, sync_commands=listen)
        self._notices = AdapterNotices()

    def use_notices(self, notices: AdapterNotices) -> None:
        self._notices = notices

    def use_agent_gate(self, gate: AgentGate) -> None:
        """Who may open agent forms: a non-agent's Reply click is refused privately by the
        desk instead of opening a form they cannot submit."""
        self.client.agent_gate = gate

    async def start(self, on_inbound: InboundHandler) -> None:
        self.client.on_inbound = on_inbound
        await self._connector.open(self.client)

    async def stop(self) -> None:
        self.client.on_inbound = None
        await self._connector.close(self.client)

    @property
    def failure(self) -> str | None:
        """Why the gateway connection ended for good, once it has (for the health check)."""
        return self._connector.failure

    async def wait_lost(self) -> None:
        """Returns or raises when the gateway connection has ended for good."""
        await self._connector.wait_lost()

    async def send(self, outbound: Outbound) -> SentRef:
        try:
            return await self._send(outbound)
        except discord.RateLimited as exc:
            raise RetryableSendError("discord: rate limited", retry_after=exc.retry_after) from exc
        except (discord.Forbidden, discord.NotFound) as exc:
            raise PermanentSendError(
                f"discord: {exc.status} {exc.text[:200]}",
                recipient_gone=exc.code == CANNOT_MESSAGE_USER,
            ) from exc
        except discord.HTTPException as exc:
            if exc.status == 429:
                raise RetryableSendError(
                    "discord: rate limited", retry_after=_retry_after(exc)
                ) from exc
            if exc.status >= 500:
                raise RetryableSendError(f"discord: server error {exc.status}") from exc
            raise PermanentSendError(f"discord: {exc.status} {exc.text[:200]}") from exc
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise RetryableSendError(f"discord: {type(exc).__name__}") from exc

    async def _send(self, outbound: Outbound) -> SentRef:
        match outbound.kind:
            case OutboundKind.EDIT:
                return await self._edit(outbound)
            case OutboundKind.OPEN_THREAD:
                return await self._open_thread(outbound)
            case OutboundKind.CLOSE_THREAD:
                return await self._close_thread(outbound)
        return await self._post(outbound)

    async def _post(self, outbound: Outbound) -> SentRef:
        if outbound.private_to:
            return await self._post_privately(outbound)
        ref = outbound.channel
        try:
            target = self._messageable(int(ref.thread or ref.channel))
            message = await self._send_chunks(target, outbound)
        except discord.NotFound as exc:
            if ref.thread is None or exc.code != UNKNOWN_CHANNEL:
                raise
            return await self._post_without_thread(outbound)
        thread = ref.thread
        if outbound.title and ref.thread is None and not self._is_dm(int(ref.channel)):
            thread = await self._thread_from(message, outbound.title)
        return SentRef(PLATFORM, ref.channel, str(message.id), thread)

    async def _send_chunks(
        self,
        target: discord.abc.Messageable,
        outbound: Outbound,
        reference: discord.MessageReference | None = None,
    ) -> discord.Message:
        text = render(outbound.text, outbound.format)
        # A post with buttons or a thread is edited later: it must stay one message.
        chunks = [_fit(text)] if outbound.buttons or outbound.title else _chunks(text)
        message: discord.Message | None = None
        for i, chunk in enumerate(chunks):
            last = i == len(chunks) - 1
            view = view_for(outbound.buttons) if last else None
            extra: dict[str, Any] = _view_arg(view)
            if reference is not None:
                extra["reference"] = reference
            message = await target.send(
                chunk, allowed_mentions=discord.AllowedMentions.none(), **extra
            )
        assert message is not None
        return message

    async def _post_without_thread(self, outbound: Outbound) -> SentRef:
        """A line for a case thread that does not exist: the thread id is its post's id (Discord
        gives a thread started from a message the message's id). Start it now (its creation
        was rate limited when the case was posted); where the bot may not, the line answers
        the post in the channel instead of being lost."""
        ref = outbound.channel
        assert ref.thread is not None
        try:
            await self._start_thread(int(ref.channel), int(ref.thread), await self._post_title(ref))
            target: discord.abc.Messageable = self._messageable(int(ref.thread))
            reference = None
        except (discord.Forbidden, discord.NotFound) as exc:
            logger.info("discord: no thread for %s (%s); replying in the channel", ref, exc.code)
            target = self._messageable(int(ref.channel))
            reference = _reference(ref.channel, ref.thread)
        message = await self._send_chunks(target, outbound, reference)
        return SentRef(PLATFORM, ref.channel, str(message.id), ref.thread)

    async def _post_title(self, ref: ChannelRef) -> str:
        """A thread's name from its post's first line (the post names the case)."""
        assert ref.thread is not None
        data = await self.client.http.get_message(int(ref.channel), int(ref.thread))
        first_line = str(data.get("content", "")).strip().splitlines()
        return re.sub(r"\\(.)", r"\1", first_line[0]) if first_line else ref.thread

    async def _post_privately(self, outbound: Outbound) -> SentRef:
        """Only ``private_to`` sees it: an ephemeral follow-up to their click or command while
        its token lives (15 minutes), else a DM. Never the channel."""
        text = _fit(render(outbound.text))
        if outbound.reply_token and self.client.application_id is not None:
            followup = discord.Webhook.from_state(
                {"id": self.client.application_id, "type": 3, "token": outbound.reply_token},
                self.client._connection,
            )
            try:
                message = await followup.send(
                    text, ephemeral=True, wait=True, allowed_mentions=discord.AllowedMentions.none()
                )
                return SentRef(PLATFORM, outbound.channel.channel, str(message.id))
            except (discord.NotFound, discord.Forbidden, discord.HTTPException) as exc:
                if exc.status >= 500 or exc.status == 429:
                    raise
                logger.info("discord: interaction token expired (%s); answering by DM", exc.status)
        user_id = int(outbound.private_to)
        user = self.client.get_user(user_id) or await self.client.fetch_user(user_id)
        try:
            dm = await user.send(text, allowed_mentions=discord.AllowedMentions.none())
        except discord.Forbidden:  # their DMs are closed: say it where they acted, not nowhere
            logger.info("discord: no private way to reach %s; answering in the channel", user_id)
            return await self._post(replace(outbound, private_to="", reply_token=""))
        return SentRef(PLATFORM, str(dm.channel.id), str(dm.id))

    def _messageable(self, channel_id: int) -> discord.abc.Messageable:
        cached = self.client.get_channel(channel_id)
        if isinstance(cached, discord.abc.Messageable):
            return cached
        return self.client.get_partial_messageable(channel_id)

    def _is_dm(self, channel_id: int) -> bool:
        return isinstance(self.client.get_channel(channel_id), discord.DMChannel)

    async def _thread_from(self, message: discord.Message, title: str) -> str | None:
        """A thread started from the post (its id is the post's). The post itself is already
        out, so nothing here may fail the send — a retry would post the case twice:

        - rate limited, or Discord failing: no thread yet; the case's next line starts it;
        - refused (no permission to create threads): the agents are told, as a reply to the
          post, and the case's lines follow as replies there."""
        try:
            return await self._start_thread(message.channel.id, message.id, title)
        except (discord.RateLimited, aiohttp.ClientError, OSError, TimeoutError) as exc:
            logger.warning("discord: thread for message %s postponed: %r", message.id, exc)
            return None
        except discord.HTTPException as exc:
            logger.warning(
                "could not start a thread from discord message %s: %s %s",
                message.id,
                exc.status,
                exc.text[:200],
            )
            if exc.status < 500 and self._notices.thread_unavailable:
                await message.channel.send(
                    self._notices.thread_unavailable,
                    reference=_reference(str(message.channel.id), str(message.id)),
                    allowed_mentions=discord.AllowedMentions.none(),
                )
            return None

    async def _start_thread(self, channel_id: int, message_id: int, title: str) -> str:
        name = title[:THREAD_NAME_MAX] or str(message_id)
        data = await self.client.http.start_thread_with_message(
            channel_id, message_id, name=name, auto_archive_duration=ARCHIVE_AFTER_MINUTES
        )
        return str(data["id"])

    async def _edit(self, outbound: Outbound) -> SentRef:
        edit_of = outbound.edit_of
        if edit_of is None:
            raise PermanentSendError("discord: an edit without the message to edit")
        channel = self.client.get_partial_messageable(int(edit_of.channel))
        message = channel.get_partial_message(int(edit_of.message_id))
        await message.edit(
            content=_fit(render(outbound.text)),
            view=view_for(outbound.buttons),
            allowed_mentions=discord.AllowedMentions.none(),
        )
        return edit_of

    async def _open_thread(self, outbound: Outbound) -> SentRef:
        if outbound.edit_of is not None:  # a thread from an earlier message
            ref = outbound.edit_of
            thread = await self._start_thread(
                int(ref.channel), int(ref.message_id), outbound.title or ref.message_id
            )
            return SentRef(PLATFORM, ref.channel, ref.message_id, thread)
        return await self._post(
            Outbound(
                channel=outbound.channel.without_thread,
                text=outbound.text,
                buttons=outbound.buttons,
                title=outbound.title or outbound.text[:THREAD_NAME_MAX],
            )
        )

    async def _close_thread(self, outbound: Outbound) -> SentRef:
        """Archive the case thread, and lock it where the bot may manage threads (a closed
        case takes no more lines). A case without a thread (it could not be opened) has
        nothing to close."""
        ref = outbound.channel
        thread_id = ref.thread or (outbound.edit_of.thread if outbound.edit_of else None)
        if thread_id is None:
            raise PermanentSendError("discord: closing a thread needs the thread")
        try:
            thread = self.client.get_channel(int(thread_id)) or await self.client.fetch_channel(
                int(thread_id)
            )
        except discord.NotFound:
            thread = None
        if not isinstance(thread, discord.Thread):
            logger.info("discord: no thread %s to close in %s", thread_id, ref.channel)
            return SentRef(PLATFORM, ref.channel, thread_id)
        if outbound.text:
            await thread.send(
                _fit(render(outbound.text)), allowed_mentions=discord.AllowedMentions.none()
            )
        try:
            await thread.edit(archived=True, locked=True)
        except discord.Forbidden:  # locking needs Manage Threads; archiving our own does not
            await thread.edit(archived=True)
        return SentRef(PLATFORM, ref.channel, thread_id, thread_id)


def render(text: str, text_format: str = "plain") -> str:
    """Text for Discord, mentions always broken: plain text has its markdown escaped (links
    kept) so it shows as typed; markdown (an agent's own words) is kept as written."""
    if text_format == "markdown":
        return discord.utils.escape_mentions(text)
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


def _fit(text: str) -> str:
    return text if len(text) <= MESSAGE_MAX else text[: MESSAGE_MAX - 1] + "…"


def _chunks(text: str) -> list[str]:
    """Several messages for a long text, cut at paragraph, line or word breaks."""
    return split_text(text, MESSAGE_MAX)


def _reference(channel: str, message: str) -> discord.MessageReference:
    return discord.MessageReference(
        message_id=int(message), channel_id=int(channel), fail_if_not_exists=False
    )


def _view_arg(view: discord.ui.View | None) -> dict[str, Any]:
    return {"view": view} if view is not None else {}


def _retry_after(exc: discord.HTTPException) -> float | None:
    headers = getattr(exc.response, "headers", None) or {}
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def apply_endpoints(settings: Settings) -> None:
    """Point discord.py at ``DISCORD_API_URL`` / ``DISCORD_GATEWAY_URL`` when they are set."""
    if settings.discord_api_url:
        discord.http.Route.BASE = settings.discord_api_url.rstrip("/")
    if settings.discord_gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


def agent_channels_of(queue_channels: list[str]) -> frozenset[str]:
    refs = (ChannelRef.parse(c) for c in queue_channels)
    return frozenset(str(r.without_thread) for r in refs if r.platform == PLATFORM)


def build(settings: Settings, listen: bool) -> DiscordChannel | None:
    """The Discord adapter when ``DISCORD_TOKEN`` is set. Sending needs only REST, so a
    ``listen=False`` process logs in without opening the gateway."""
    if settings.discord_token is None or not settings.discord_token.get_secret_value():
        return None
    apply_endpoints(settings)
    desk = load_desk_config(settings.desk_config_file)
    token = settings.discord_token.get_secret_value()
    connector: Connector = GatewayConnector(token) if listen else RestOnlyConnector(token)
    return DiscordChannel(
        connector=connector,
        agent_channels=agent_channels_of([q.channel for q in desk.queues]),
        listen=listen,
    )


class RestOnlyConnector:
    """For processes that only send: REST login, no gateway (no events, no presence)."""

    def __init__(self, token: str) -> None:
        self._token = token
        self.failure: str | None = None

    async def wait_lost(self) -> None:
        await asyncio.Event().wait()  # nothing held open: nothing to lose

    async def open(self, client: discord.Client) -> None:
        await client.login(self._token)

    async def close(self, client: discord.Client) -> None:
        await client.close()
