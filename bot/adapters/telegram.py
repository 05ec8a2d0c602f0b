"""The Telegram adapter (python-telegram-bot 22): customers in private chats, agents in a group.

Updates arrive by long polling (``listen=True`` without ``TELEGRAM_WEBHOOK_URL``; PTB's Updater
fetches ``getUpdates``) or by webhook: ``POST /telegram/webhook`` in the ``web`` process's ASGI
app checks ``X-Telegram-Bot-Api-Secret-Token`` against ``TELEGRAM_WEBHOOK_SECRET`` (missing or
wrong → 403) and hands the parsed ``Update`` to the same handler the Application runs for polled
updates; the webhook is set with ``setWebhook(url, secret_token)`` at start. PTB never binds a
port of its own.

Agent groups are the ``telegram:<chat id>`` queue channels of helpdesk.yml. In a forum group
the escalation post (an outbound with a ``title`` and no thread) creates a topic per case and
its ``SentRef.thread`` is the topic's ``message_thread_id``; in a plain group the post's reply
chain is the case thread (replies go out with ``reply_parameters``). Group admins (per
``getChatMember``, cached) carry the group ``admin``, so ``group:admin`` in the roles of
helpdesk.yml makes every group admin an agent.

Translation is in ``telegram_inbound`` (updates → Inbound), ``telegram_outbound`` (posts, edits,
topics) and ``telegram_render`` (keyboards, text limits, error classes); start-up checks of the
agent groups in ``telegram_checks``; reconnects of long polling are counted in
``telegram_polling``.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from telegram import Bot, Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler

from bot.adapters.telegram_checks import check_group
from bot.adapters.telegram_inbound import PLATFORM, translate
from bot.adapters.telegram_outbound import TelegramSender
from bot.adapters.telegram_polling import PollingRequest
from bot.clock import Clock, SystemClock
from bot.config import DeskConfig, Settings, load_desk_config
from bot.errors import ConfigError
from bot.messages import (
    AgentGate,
    Capabilities,
    ChannelRef,
    Inbound,
    InboundHandler,
    InboundKind,
    Outbound,
    SentRef,
)

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "callback_query"]
ADMIN_STATUSES = {"administrator", "creator"}
ADMIN_CACHE = timedelta(minutes=10)
# Bot API URLs contain the token; these loggers print URLs (a filter does not reach children)
_LOGGERS_WITH_URLS = ("httpx", "telegram.Bot", "telegram.ext.ExtBot")


class TelegramChannel:
    platform = PLATFORM
    capabilities = Capabilities(threads=True, edits=True, buttons=True, forms=False, files=False)

    def __init__(
        self,
        *,
        token: str,
        api_url: str,
        agent_chats: Sequence[str] = (),
        listen: bool = True,
        webhook_url: str = "",
        webhook_secret: str = "",
        clock: Clock | None = None,
        poll_timeout: float = 10.0,
    ) -> None:
        if webhook_url and not webhook_secret:
            raise ConfigError("TELEGRAM_WEBHOOK_URL is set but TELEGRAM_WEBHOOK_SECRET is not")
        self._redaction = _RedactToken(token)
        for name in _LOGGERS_WITH_URLS:  # PTB logs its API URL as it builds the bot
            logging.getLogger(name).addFilter(self._redaction)
        self._application: Application[Any, Any, Any, Any, Any, Any] = (
            ApplicationBuilder()
            .token(token)
            .base_url(api_url)
            .base_file_url(_file_url(api_url))
            .get_updates_request(PollingRequest())  # counts reconnects of long polling
            .build()
        )
        self._application.add_handler(TypeHandler(Update, self._on_update))
        self._application.add_error_handler(self._on_error)
        self._sender = TelegramSender(bot=self._application.bot, agent_chats=agent_chats)
        self._agent_chats = frozenset(agent_chats)
        self._listen = listen
        self._webhook_url = webhook_url
        self._webhook_secret = webhook_secret
        self._clock = clock or SystemClock()
        self._poll_timeout = poll_timeout
        self._on_inbound: InboundHandler | None = None
        self._initialized = False
        self._polling = False
        self._admins: dict[tuple[str, str], tuple[bool, datetime]] = {}
        self._gate: AgentGate = _everyone

    @property
    def bot(self) -> Bot:
        return self._application.bot

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self, on_inbound: InboundHandler) -> None:
        """Connect (``getMe``), check the agent groups, then poll or set the webhook."""
        try:
            await self._application.initialize()
        except InvalidToken:  # PTB's message quotes the token: never let it reach a log
            raise ConfigError(
                "TELEGRAM_TOKEN was rejected by Telegram: copy it again from @BotFather"
            ) from None
        self._initialized = True
        self._on_inbound = on_inbound
        await self._check_groups()
        if self._webhook_url:
            await self.bot.set_webhook(
                self._webhook_url,
                secret_token=self._webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
            )
            logger.info("telegram: updates arrive at the webhook (%s)", WEBHOOK_PATH)
        elif self._listen:
            await self._application.start()
            updater = self._application.updater
            assert updater is not None  # ApplicationBuilder always builds one
            await updater.start_polling(
                timeout=int(self._poll_timeout), allowed_updates=ALLOWED_UPDATES
            )
            self._polling = True
            logger.info("telegram: polling for updates as @%s", self.bot.username)

    async def stop(self) -> None:
        if self._polling:
            updater = self._application.updater
            if updater is not None and updater.running:
                await updater.stop()
            await self._application.stop()
            self._polling = False
        if self._initialized:
            await self._application.shutdown()
            self._initialized = False
        self._on_inbound = None
        for name in _LOGGERS_WITH_URLS:
            logging.getLogger(name).removeFilter(self._redaction)

    async def _check_groups(self) -> None:
        can_read_all = bool(self.bot.can_read_all_group_messages)
        for chat_id in sorted(self._agent_chats):
            try:
                status = await check_group(self.bot, chat_id)
            except Exception:  # advisory only: never keep customers waiting on it
                logger.exception("telegram: could not check agent group %s", chat_id)
                continue
            self._sender.know_group(status)
            for problem in status.problems(can_read_all):
                logger.warning("telegram: %s", problem)

    # --- inbound --------------------------------------------------------------------------

    async def _on_update(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.handle_update(update)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A polled update whose handling failed (it was not stored; Telegram will not send it
        again, so say so loudly)."""
        update_id = update.update_id if isinstance(update, Update) else "?"
        logger.error("telegram: update %s was not handled", update_id, exc_info=context.error)

    async def handle_update(self, update: Update) -> None:
        """Translate one update and hand it to the help desk; then acknowledge a button (a
        spinner keeps turning until ``answerCallbackQuery``) — except an agent button clicked
        by someone the agent gate refuses: the desk's private refusal answers that click as
        an alert, which only an unanswered query can show."""
        refused_click = False
        try:
            inbound = translate(
                update,
                bot_id=self.bot.id,
                bot_username=self.bot.username,
                agent_chats=self._agent_chats,
            )
            if inbound is not None and self._on_inbound is not None:
                if inbound.channel.channel in self._agent_chats:
                    inbound = await self._with_groups(inbound)
                    refused_click = inbound.kind == InboundKind.ACTION and not self._gate(inbound)
                await self._on_inbound(inbound)
        finally:
            if update.callback_query is not None and not refused_click:
                try:
                    await update.callback_query.answer()
                except TelegramError as exc:
                    logger.warning("telegram: could not answer a button click: %s", exc.message)

    def use_agent_gate(self, gate: AgentGate) -> None:
        self._gate = gate

    async def _with_groups(self, inbound: Inbound) -> Inbound:
        """An agent group's messages carry the group ``<chat id>``, and ``admin`` when the
        sender administers that group (``getChatMember``, cached for ten minutes)."""
        chat = inbound.channel.channel
        key = (chat, inbound.user_id)
        now = self._clock.now()
        cached = self._admins.get(key)
        if cached is None or now - cached[1] > ADMIN_CACHE:
            try:
                member = await self.bot.get_chat_member(key[0], int(key[1]))
            except TelegramError as exc:
                logger.warning("telegram: getChatMember failed: %s", exc.message)
                return replace(inbound, groups=(chat,))
            cached = (member.status in ADMIN_STATUSES, now)
            self._admins[key] = cached
        return replace(inbound, groups=(chat, "admin") if cached[0] else (chat,))

    async def send(self, outbound: Outbound) -> SentRef:
        return await self._sender.send(outbound)

    # --- webhook --------------------------------------------------------------------------

    def http_routes(self) -> list[BaseRoute]:
        if not self._webhook_url:
            return []
        return [Route(WEBHOOK_PATH, self._webhook, methods=["POST"])]

    async def _webhook(self, request: Request) -> Response:
        supplied = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(supplied.encode(), self._webhook_secret.encode()):
            logger.warning("telegram webhook: refused a request without the right secret token")
            return Response(status_code=403)
        if self._on_inbound is None:
            return Response(status_code=503)  # not started yet: Telegram retries
        try:
            update = Update.de_json(await request.json(), self.bot)
        except (ValueError, TypeError, KeyError, AttributeError):
            logger.warning("telegram webhook: refused a body that is not an Update")
            return Response(status_code=400)
        try:
            await self.handle_update(update)
        except Exception:  # not stored: a non-2xx answer makes Telegram deliver it again
            logger.exception("telegram webhook: update %s failed", update.update_id)
            return Response(status_code=500)
        return Response(status_code=200)


def _everyone(_: Inbound) -> bool:
    return True


class _RedactToken(logging.Filter):
    """httpx logs request URLs, and Bot API URLs contain the token: never let it reach logs."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self._token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self._token and self._token in message:
            record.msg, record.args = message.replace(self._token, "<token>"), None
        return True


def _file_url(api_url: str) -> str:
    base = api_url.rstrip("/")
    if base.endswith("/bot"):
        return base[: -len("/bot")] + "/file/bot"
    return base + "/file"


def agent_chats(desk: DeskConfig) -> list[str]:
    """The chat ids of the Telegram queue channels in helpdesk.yml."""
    refs = [ChannelRef.parse(queue.channel) for queue in desk.queues]
    return sorted({ref.channel for ref in refs if ref.platform == PLATFORM})


def build(settings: Settings, listen: bool) -> TelegramChannel | None:
    """The adapter, or None when ``TELEGRAM_TOKEN`` is not set."""
    token = settings.telegram_token.get_secret_value() if settings.telegram_token else ""
    if not token:
        return None
    secret = settings.telegram_webhook_secret
    return TelegramChannel(
        token=token,
        api_url=settings.telegram_api_url,
        agent_chats=agent_chats(load_desk_config(settings.desk_config_file)),
        listen=listen,
        webhook_url=settings.telegram_webhook_url,
        webhook_secret=secret.get_secret_value() if secret else "",
    )
