"""The Slack adapter: slack-bolt (async) on one side, the kernel's Channel protocol on the other.

It receives in either or both of Slack's connection modes:

- **Socket Mode** (``SLACK_APP_TOKEN``): the process holds a websocket; the default for one
  process (``helpdesk run``, the ``worker``);
- **HTTP Events API** (``SLACK_SIGNING_SECRET``): ``POST /slack/events`` on the ``web``
  process (``http_routes``); bolt verifies every signature (bad or stale → 401) and answers
  ``url_verification``.

Events, button clicks, modal submissions and the ``/helpdesk`` command are translated
(``slack_inbound``) and handed to ``on_inbound`` *before* Slack is acknowledged (bolt runs with
``process_before_response``), so an event Slack never saw acknowledged is redelivered and the
inbox drops the copy by its ``event_id``. A Reply button opens its modal in the click handler
itself, while the trigger id is still valid. Slack sends every message of the shared channels the
bot is in; one in a thread is handed over only when the help desk follows that thread, which the
adapter asks through a lookup the composition root gives it (``follow_threads_with``; the answer
comes from the database). It keeps no routing state of its own, so every process and every
restart agrees. Sending renders Block
Kit (``slack_blocks``) with all text escaped; errors are classified at the edge
(``slack_errors``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Iterable
from dataclasses import replace
from typing import Any

import aiohttp
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack_blocks import (
    ACTION_PREFIX,
    FORM_ACTION_PREFIX,
    REPLY_VIEW_ID,
    render,
    reply_modal,
)
from bot.adapters.slack_directory import SlackDirectory
from bot.adapters.slack_errors import classify
from bot.adapters.slack_inbound import (
    PLATFORM,
    clicked_channel,
    from_action,
    from_command,
    from_mention,
    from_message,
    from_view,
    in_shared_thread,
)
from bot.clock import Clock, SystemClock
from bot.config import Settings, load_desk_config
from bot.errors import PermanentSendError, RetryableSendError
from bot.messages import (
    Capabilities,
    Channel,
    ChannelRef,
    Inbound,
    InboundHandler,
    Outbound,
    OutboundKind,
    SentRef,
    ThreadLookup,
)

logger = logging.getLogger(__name__)

COMMAND = "/helpdesk"
EVENTS_PATH = "/slack/events"


class SlackChannel:
    platform = PLATFORM
    capabilities = Capabilities(threads=True, edits=True, buttons=True, forms=True, files=False)

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
    ) -> None:
        self._client = client
        self._app_token = app_token
        self._signing_secret = signing_secret
        self._agent_channels = frozenset(agent_channels)
        self._listen = listen
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
            await self._socket.connect_async()
            logger.info("slack: connected in Socket Mode")

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None
        self._on_inbound = None

    async def send(self, outbound: Outbound) -> SentRef:
        method = "chat.update" if outbound.kind == OutboundKind.EDIT else "chat.postMessage"
        try:
            return await self._send(outbound)
        except SlackApiError as exc:
            raise classify(exc, method) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
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
        response = await self._client.chat_postMessage(
            channel=channel,
            thread_ts=thread,
            unfurl_links=False,
            unfurl_media=False,
            **render(outbound),
        )
        posted_in = str(response.get("channel") or channel)
        return SentRef(PLATFORM, posted_in, str(response["ts"]), thread)

    async def _follows(self, inbound: Inbound) -> bool:
        """Does the help desk take part in this thread? Asked of the database every time: a
        lookup that fails raises, so Slack is not acknowledged and delivers the event again."""
        if self._follows_thread is None:
            return False
        return await self._follows_thread(inbound.channel)

    # --- receiving ------------------------------------------------------------------------

    async def _deliver(self, inbound: Inbound) -> None:
        if self._on_inbound is None:
            raise RuntimeError("slack: an event arrived before start()")  # bolt answers 500
        inbound = replace(
            inbound,
            user_name=await self._directory.display_name(inbound.user_id),
            groups=await self._directory.groups_of(inbound.user_id),
        )
        await self._on_inbound(inbound)

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
                if str(action.get("action_id", "")).startswith(FORM_ACTION_PREFIX):
                    await self._open_reply_modal(body, action)
                    continue
                inbound = from_action(body, action, agents)
                if inbound is not None:
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

    async def _open_reply_modal(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        """Opened right here: the click's trigger id expires within seconds."""
        where = clicked_channel(body, self._agent_channels)
        try:
            await self._client.views_open(
                trigger_id=str(body.get("trigger_id", "")),
                view=reply_modal(str(action.get("value", "")), where.channel, where.thread),
            )
        except SlackApiError as exc:
            logger.warning("slack views.open failed: %s", exc.response.get("error"))


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
    desk = load_desk_config(settings.config_file)
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
    )
