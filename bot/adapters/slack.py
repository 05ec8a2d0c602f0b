"""The Slack adapter: slack-bolt (async) on one side, the kernel's Channel protocol on the other.

It receives in either or both of Slack's connection modes:

- **Socket Mode** (``SLACK_APP_TOKEN``): the process holds a websocket; the default for one
  process (``helpdesk run``, the ``worker``);
- **HTTP Events API** (``SLACK_SIGNING_SECRET``): ``POST /slack/events`` on the ``web``
  process (``http_routes``); bolt verifies every signature (bad or stale → 401) and answers
  ``url_verification``.

Events, button clicks, modal submissions and the ``/helpdesk`` command are translated
(``slack_inbound``) and handed to ``on_inbound`` — which stores them — *before* Slack is
acknowledged (bolt runs with ``process_before_response``), so an event Slack never saw
acknowledged is redelivered and the inbox drops the copy by its ``event_id``, and one it saw
acknowledged is in the database. They are stored as they arrived, with the sender's Slack id
and the text in Slack's wire form: no Slack API call stands between an event and its ack.
The sender's name and groups (``users.info``, ``usergroups.users.list``, cached) and the plain
text (``slack_text``) are filled in when the inbound is handled (``complete``, which the intake
calls); a look-up that cannot reach Slack is tried again by the inbox's retry rules.

A Reply button opens its modal in the click handler itself, while the trigger id is still
valid — for agents only (``AgentGate``): anyone else's click goes to the core, which refuses
privately. Sending renders Block Kit (``slack_blocks``) with plain text escaped once and splits
texts past a message's room; a private answer (``Outbound.private_to``) goes through the
command's or click's ``response_url``, else ``chat.postEphemeral``, else a DM; a file
(``Outbound.file_path``) is uploaded with ``files.getUploadURLExternal`` +
``files.completeUploadExternal``. Errors are classified at the edge (``slack_errors``).
Socket Mode reconnects (each new websocket after the first) are counted on the metrics.

Slack sends every message of the shared channels the bot is in; one in a thread is handed over
only when the help desk follows that thread, which the adapter asks through a lookup the
composition root gives it (``follow_threads_with``; the answer comes from the database). It keeps
no routing state of its own, so every process and every restart agrees.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.adapters.slack_blocks import (
    ACTION_PREFIX,
    ARTICLE_VIEW_ID,
    FORM_ACTION_PREFIX,
    REPLY_VIEW_ID,
    article_modal,
    render,
    render_parts,
    reply_modal,
)
from bot.adapters.slack_directory import SlackDirectory
from bot.adapters.slack_errors import classify
from bot.adapters.slack_inbound import (
    PLATFORM,
    clicked_channel,
    from_action,
    from_article_view,
    from_command,
    from_mention,
    from_message,
    from_view,
    in_shared_thread,
)
from bot.adapters.slack_text import escape, mentioned_users, to_plain
from bot.clock import Clock, SystemClock
from bot.config import Settings, load_desk_config
from bot.errors import PermanentSendError, RetryableSendError
from bot.messages import (
    AgentGate,
    Capabilities,
    Channel,
    ChannelRef,
    Inbound,
    InboundHandler,
    InboundKind,
    Outbound,
    OutboundKind,
    SentRef,
    ThreadLookup,
    split_payload,
)
from bot.metrics import ADAPTER_RECONNECTS

logger = logging.getLogger(__name__)

COMMAND = "/helpdesk"
EVENTS_PATH = "/slack/events"
# Slack wants an answer within 3 s: a Reply click waits this long for the clicker's groups
# before it opens the form anyway (the submission is checked by the core all the same)
LOOKUP_BUDGET_SECONDS = 2.0
FILE_COMMENT_MAX_CHARS = 36_000  # a file's comment is a message: under Slack's 40,000
# where a private answer cannot go as an ephemeral message, it goes as a DM
EPHEMERAL_REFUSED = frozenset(
    {"channel_not_found", "not_in_channel", "user_not_in_channel", "is_archived"}
)


class SlackChannel:
    platform = PLATFORM
    capabilities = Capabilities(threads=True, edits=True, buttons=True, forms=True, files=True)

    def __init__(
        self,
        *,
        client: AsyncWebClient,
        app_token: str | None = None,
        signing_secret: str | None = None,
        agent_channels: Collection[str] = (),
        role_groups: Iterable[str] = (),
        clock: Clock | None = None,
        listen: bool = True,
        agent_gate: AgentGate | None = None,
        lookup_budget: float = LOOKUP_BUDGET_SECONDS,
    ) -> None:
        self._client = client
        self._app_token = app_token
        self._signing_secret = signing_secret
        self._agent_channels = frozenset(agent_channels)
        self._listen = listen
        self._agent_gate = agent_gate
        self._lookup_budget = lookup_budget
        self._directory = SlackDirectory(
            client=client, clock=clock or SystemClock(), groups=role_groups
        )
        self._follows_thread: ThreadLookup | None = None
        self._on_inbound: InboundHandler | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self.app = AsyncApp(
            name="helpdesk",
            client=client,
            signing_secret=signing_secret or "",
            request_verification_enabled=bool(signing_secret),
            process_before_response=True,  # store the inbound first, then acknowledge
        )
        self._register()

    # --- the Channel protocol -------------------------------------------------------------

    def follow_threads_with(self, lookup: ThreadLookup) -> None:
        self._follows_thread = lookup

    async def start(self, on_inbound: InboundHandler) -> None:
        self._on_inbound = on_inbound
        if self._listen and self._app_token:
            self._socket = AsyncSocketModeHandler(
                self.app, self._app_token, web_client=self._client
            )
            self._socket.client.message_listeners.append(_ReconnectCounter())
            await self._socket.connect_async()
            logger.info("slack: connected in Socket Mode")

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None
        self._on_inbound = None

    async def send(self, outbound: Outbound) -> SentRef:
        method = _method_of(outbound)
        try:
            if outbound.private_to:
                return await self._send_private(outbound)
            if outbound.file_path and outbound.kind == OutboundKind.POST:
                return await self._upload(outbound)
            return await self._send(outbound)
        except SlackApiError as exc:
            raise classify(exc, method) from exc
        except (aiohttp.ClientError, TimeoutError, SlackRequestError) as exc:
            raise RetryableSendError(f"slack {method}: {type(exc).__name__}") from exc

    def http_routes(self) -> list[Any]:
        """``POST /slack/events`` for events, interactivity and the slash command."""
        if not self._signing_secret:
            return []
        from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
        from starlette.requests import Request
        from starlette.responses import Response
        from starlette.routing import Route

        handler = AsyncSlackRequestHandler(self.app)

        async def events(request: Request) -> Response:
            return await handler.handle(request)

        return [Route(EVENTS_PATH, events, methods=["POST"])]

    # --- sending --------------------------------------------------------------------------

    async def _send(self, outbound: Outbound) -> SentRef:
        if outbound.kind == OutboundKind.EDIT:
            ref = outbound.edit_of
            if ref is None:
                raise PermanentSendError("slack chat.update: nothing to edit")
            await self._client.chat_update(
                channel=ref.channel, ts=ref.message_id, **render(outbound)
            )
            return ref
        channel, thread = outbound.channel.channel, outbound.channel.thread
        if outbound.kind == OutboundKind.CLOSE_THREAD and not outbound.text:
            return SentRef(PLATFORM, channel, thread or "", thread)  # Slack threads never close
        first: SentRef | None = None
        for part in render_parts(outbound):  # a text past one message's room: several, in order
            response = await self._client.chat_postMessage(
                channel=channel, thread_ts=thread, unfurl_links=False, unfurl_media=False, **part
            )
            posted_in = str(response.get("channel") or channel)
            first = first or SentRef(PLATFORM, posted_in, str(response["ts"]), thread)
        assert first is not None  # render_parts always gives at least one message
        return first  # the first part: the root of a thread, what a later edit replaces

    async def _send_private(self, outbound: Outbound) -> SentRef:
        """Only ``private_to`` sees it: through the ``response_url`` of the command or click
        (works in any channel, bot member or not), else ``chat.postEphemeral``, else a DM."""
        channel, thread = outbound.channel.channel, outbound.channel.thread
        user = outbound.private_to
        message = render(outbound)
        if outbound.reply_token and await self._respond(outbound.reply_token, message):
            return SentRef(PLATFORM, channel, "ephemeral", thread)
        try:
            response = await self._client.chat_postEphemeral(
                channel=channel, user=user, thread_ts=thread, **message
            )
            ts = str(response.get("message_ts") or "ephemeral")
            return SentRef(PLATFORM, channel, ts, thread)
        except SlackApiError as exc:
            data = exc.response.data if isinstance(exc.response.data, dict) else {}
            if data.get("error") not in EPHEMERAL_REFUSED:
                raise
            logger.info("slack: no ephemeral in %s (%s): a DM", channel, data.get("error"))
        opened = await self._client.conversations_open(users=user)
        dm = str((opened.get("channel") or {}).get("id", ""))
        response = await self._client.chat_postMessage(channel=dm, **message)
        return SentRef(PLATFORM, dm, str(response["ts"]))

    async def _respond(self, response_url: str, message: dict[str, Any]) -> bool:
        """Answer through a ``response_url`` (valid 30 minutes, 5 uses); False if it is spent."""
        try:
            response = await AsyncWebhookClient(response_url).send(
                **message, response_type="ephemeral", replace_original=False
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            logger.info("slack response_url failed (%s): trying chat.postEphemeral", exc)
            return False
        if response.status_code != 200:
            logger.info("slack response_url: HTTP %s; trying ephemeral", response.status_code)
            return False
        return True

    async def _upload(self, outbound: Outbound) -> SentRef:
        """The text as the file's comment, the file uploaded into the channel (Slack's
        external upload: get an upload URL, POST the bytes, complete into the channel)."""
        path = Path(outbound.file_path)
        if not await asyncio.to_thread(path.is_file):  # drawn on another host: text only
            logger.warning("slack: %s is not here to upload; posting the text only", path)
            return await self._send(replace(outbound, file_path=""))
        channel, thread = outbound.channel.channel, outbound.channel.thread
        response = await self._client.files_upload_v2(
            channel=channel,
            thread_ts=thread,
            file=str(path),
            filename=path.name,
            title=outbound.title or path.name,
            initial_comment=escape(outbound.text)[:FILE_COMMENT_MAX_CHARS],
        )
        file = response.get("file") or {}
        return SentRef(PLATFORM, channel, str(file.get("id", "")), thread)

    async def _follows(self, inbound: Inbound) -> bool:
        """Does the help desk take part in this thread? Asked of the database every time: a
        lookup that fails raises, so Slack is not acknowledged and delivers the event again."""
        if self._follows_thread is None:
            return False
        return await self._follows_thread(inbound.channel)

    # --- receiving ------------------------------------------------------------------------

    async def _deliver(self, inbound: Inbound) -> None:
        """Hand ``inbound`` over as it arrived, before Slack is acknowledged: storing it waits
        on no Slack API call, so the ack stays well inside Slack's 3 seconds. Who wrote it and
        its plain text are filled in when it is handled (``complete``)."""
        if self._on_inbound is None:
            raise RuntimeError("slack: an event arrived before start()")  # bolt answers 500
        await self._on_inbound(replace(inbound, needs_completion=True))

    async def complete(self, inbound: Inbound) -> Inbound:
        """Who wrote (name, groups) and the text as they saw it: mentions by name, links as
        "label (url)", ``&amp;`` as ``&``. What Slack refuses leaves the user id as the name and
        no groups; what Slack cannot answer now (429, 5xx, no connection) raises, and the inbox
        tries the message again later (``SlackDirectory``)."""
        names = {u: await self._directory.display_name(u) for u in _mentioned(inbound)}
        text = to_plain(inbound.text, names) if _in_wire_form(inbound) else inbound.text
        return replace(
            inbound,
            text=text,
            user_name=await self._directory.display_name(inbound.user_id),
            groups=await self._directory.groups_of(inbound.user_id),
            needs_completion=False,
        )

    async def _may_open_form(self, inbound: Inbound) -> bool:
        """The agent gate, with the clicker's groups. Should the look-up be slow or fail, the form
        opens (the trigger id would expire): its submission is checked by the core all the same."""
        if self._agent_gate is None:
            return True
        completing = asyncio.ensure_future(self.complete(inbound))
        done, _ = await asyncio.wait({completing}, timeout=self._lookup_budget)
        if not done or completing.exception() is not None:  # Slack cannot say now
            return True
        return self._agent_gate(completing.result())

    def _register(self) -> None:
        app, agents = self.app, self._agent_channels

        @app.event("message")
        async def on_message(body: dict[str, Any], context: AsyncBoltContext) -> None:
            inbound = from_message(body, bot_user_id=context.bot_user_id, agent_channels=agents)
            if inbound is None:
                return
            if in_shared_thread(inbound, agents) and not await self._follows(inbound):
                return  # people talking among themselves in a thread the desk never joined
            await self._deliver(inbound)

        @app.event("app_mention")
        async def on_mention(body: dict[str, Any], context: AsyncBoltContext) -> None:
            inbound = from_mention(body, bot_user_id=context.bot_user_id, agent_channels=agents)
            if inbound is not None:
                await self._deliver(inbound)

        @app.command(COMMAND)
        async def on_command(ack: AsyncAck, body: dict[str, Any]) -> None:
            await self._deliver(from_command(body))
            await ack()

        @app.action(re.compile(f"^({re.escape(ACTION_PREFIX)}|{re.escape(FORM_ACTION_PREFIX)})"))
        async def on_action(ack: AsyncAck, body: dict[str, Any]) -> None:
            for action in body.get("actions") or ():
                inbound = from_action(body, action, agents)
                if inbound is None:
                    continue
                opens_form = str(action.get("action_id", "")).startswith(FORM_ACTION_PREFIX)
                if opens_form and await self._may_open_form(inbound):
                    await self._open_modal(body, action)
                    continue
                await self._deliver(inbound)  # a refused Reply click: the core says why
            await ack()

        @app.view(ARTICLE_VIEW_ID)
        async def on_article_view(ack: AsyncAck, body: dict[str, Any]) -> None:
            inbound = from_article_view(body)
            if inbound is None:
                logger.warning("slack: an article modal came back without its channel; ignored")
            else:
                await self._deliver(inbound)
            await ack()

        @app.view(REPLY_VIEW_ID)
        async def on_view(ack: AsyncAck, body: dict[str, Any]) -> None:
            inbound = from_view(body)
            if inbound is None:
                logger.warning("slack: a Reply modal came back without its case; ignored")
            else:
                await self._deliver(inbound)
            await ack()

    async def _open_modal(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        """Opened right here: the click's trigger id expires within seconds. The article
        button (``kb:…``) opens the article form, any other the Reply form."""
        where = clicked_channel(body, self._agent_channels)
        payload = str(action.get("value", ""))
        modal = article_modal if split_payload(payload)[0] == "kb" else reply_modal
        try:
            await self._client.views_open(
                trigger_id=str(body.get("trigger_id", "")),
                view=modal(payload, where.channel, where.thread),
            )
        except SlackApiError as exc:
            logger.warning("slack views.open failed: %s", exc.response.get("error"))


class _ReconnectCounter:
    """Counts Socket Mode reconnects. Slack greets every new websocket with a ``hello``
    message; the SDK opens a new one whenever the old one dropped, went stale or Slack asked
    for a refresh (a ``disconnect`` message, every few hours): each ``hello`` after the first
    is a reconnect."""

    def __init__(self) -> None:
        self._greeted = False

    async def __call__(self, _client: Any, message: dict[str, Any], _raw: str | None) -> None:
        if message.get("type") != "hello":
            return
        if self._greeted:
            ADAPTER_RECONNECTS.labels(platform=PLATFORM).inc()
        self._greeted = True


def _method_of(outbound: Outbound) -> str:
    if outbound.private_to:
        return "chat.postEphemeral"
    if outbound.file_path:
        return "files.completeUploadExternal"
    return "chat.update" if outbound.kind == OutboundKind.EDIT else "chat.postMessage"


def _in_wire_form(inbound: Inbound) -> bool:
    """Message and command text comes in Slack's escaped format; a modal's input is plain."""
    return inbound.kind in (InboundKind.MESSAGE, InboundKind.COMMAND)


def _mentioned(inbound: Inbound) -> list[str]:
    return mentioned_users(inbound.text) if _in_wire_form(inbound) else []


def agent_gate(members: Sequence[str]) -> AgentGate:
    """The configured Slack agents (user ids, ``group:S…``) as a check on an inbound."""
    ids = frozenset(members)

    def is_agent(inbound: Inbound) -> bool:
        return inbound.user_id in ids or any(f"group:{g}" in ids for g in inbound.groups)

    return is_agent


def build(settings: Settings, listen: bool) -> Channel | None:
    """The Slack adapter when ``SLACK_BOT_TOKEN`` is set, else None."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    if not token:
        return None
    app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else ""
    secret = (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    )
    if not app_token and not secret:
        logger.warning("slack: neither SLACK_APP_TOKEN nor SLACK_SIGNING_SECRET set: send only")
    desk = load_desk_config(settings.desk_config_file)
    agent_channels = {
        ref.channel
        for ref in (ChannelRef.parse(q.channel) for q in desk.queues)
        if ref.platform == PLATFORM
    }
    members = [*desk.roles.agents.slack, *desk.roles.managers.slack, *desk.roles.admins.slack]
    return SlackChannel(
        client=AsyncWebClient(token=token, base_url=settings.slack_api_url),
        app_token=app_token or None,
        signing_secret=secret or None,
        agent_channels=agent_channels,
        role_groups=[m.removeprefix("group:") for m in members if m.startswith("group:")],
        listen=listen,
        agent_gate=agent_gate(desk.roles.agents.slack),
    )
