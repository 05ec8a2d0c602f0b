"""A local stand-in of the Telegram Bot API for adapter tests.

An HTTP server on 127.0.0.1 (port 0) that answers ``/bot<token>/<method>`` the way
api.telegram.org does — ``{"ok": true, "result": …}`` with the documented object shapes
(https://core.telegram.org/bots/api) — and records every call with its decoded parameters. PTB
sends form-encoded bodies whose nested values (``reply_markup``, ``reply_parameters``) are JSON
strings; they are decoded here so tests assert on structures.

It holds a little state: the bot (``getMe``), chats (``getChat``), members (``getChatMember``),
message and topic counters, and a queue of updates served by ``getUpdates`` (long polling: a
request waits until an update is pushed, its ``timeout`` passes or the server stops).
Texts over 4,096 UTF-16 units (or empty) and captions over 1,024 are refused with Telegram's
own 400 errors. ``fail(method, error)`` makes the next call of a method fail with one of
Telegram's error bodies (``RATE_LIMITED(n)``, ``BLOCKED``, ``NOT_ENOUGH_RIGHTS``);
``break_polling()`` makes the long poll in progress (or else the next one) answer 502 Bad
Gateway at once, as Telegram's front end does when it loses its Bot API backend. A webhook set
with ``setWebhook`` (https only, Telegram's secret-token alphabet) is reported by
``getWebhookInfo``, and while it is set ``getUpdates`` is refused with Telegram's 409 Conflict.

What it cannot prove: real permission checks, real rate limits, how clients render messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import socket
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

TOKEN = "123456:TEST-token-not-real"
BOT_ID = 123456
BOT_USERNAME = "helpdesk_test_bot"
DATE = 1767603600  # 2026-01-05 09:00 UTC, in unix seconds as Telegram sends them


@dataclass(frozen=True)
class ApiError:
    status: int
    body: dict[str, Any]


def RATE_LIMITED(seconds: int) -> ApiError:
    return ApiError(
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": f"Too Many Requests: retry after {seconds}",
            "parameters": {"retry_after": seconds},
        },
    )


BLOCKED = ApiError(
    403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
)
WEBHOOK_ACTIVE = ApiError(
    409,
    {
        "ok": False,
        "error_code": 409,
        "description": "Conflict: can't use getUpdates method while webhook is active; "
        "use deleteWebhook to delete the webhook first",
    },
)
BAD_GATEWAY = ApiError(502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})
NOT_ENOUGH_RIGHTS = ApiError(
    400,
    {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: not enough rights to create a topic",
    },
)


TEXT_MAX = 4096  # sendMessage / editMessageText, in UTF-16 code units after entity parsing
CAPTION_MAX = 1024  # captions of photos, documents, videos …


def _bad_request(description: str) -> ApiError:
    return ApiError(400, {"ok": False, "error_code": 400, "description": description})


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def text_refusal(text: str) -> ApiError | None:
    """Telegram's answer to a text it will not take, or None."""
    if not text.strip():
        return _bad_request("Bad Request: message text is empty")
    if _utf16(text) > TEXT_MAX:
        return _bad_request("Bad Request: message is too long")
    return None


def caption_refusal(caption: str) -> ApiError | None:
    if _utf16(caption) > CAPTION_MAX:
        return _bad_request("Bad Request: message caption is too long")
    return None


@dataclass(frozen=True)
class Call:
    method: str
    params: dict[str, Any]


@dataclass
class TelegramApi:
    """The stand-in's state and recorded calls; ``start()``/``stop()`` run its server."""

    can_read_all_group_messages: bool = False
    calls: list[Call] = field(default_factory=list)
    chats: dict[str, dict[str, Any]] = field(default_factory=dict)
    members: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    failures: dict[str, deque[ApiError]] = field(default_factory=lambda: defaultdict(deque))

    def __post_init__(self) -> None:
        self._updates: deque[dict[str, Any]] = deque()
        self._update_ids = itertools.count(1000)
        self._message_ids: dict[str, itertools.count[int]] = defaultdict(
            lambda: itertools.count(500)
        )
        self._topic_ids = itertools.count(70)
        self.topics: dict[str, set[int]] = defaultdict(set)  # chat id -> its topics' ids
        self.closed_topics: dict[str, set[int]] = defaultdict(set)
        self._new_update = asyncio.Event()
        self._closing = asyncio.Event()
        self._poll_broken = asyncio.Event()
        self._recorded = asyncio.Condition()
        self.sent: list[dict[str, Any]] = []  # the Message objects sendMessage returned
        self._answered: set[str] = set()  # callback query ids
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.port = 0
        # setWebhook's registration, as getWebhookInfo reports it (set ``last_error_*`` to play
        # Telegram failing to deliver to it); while it has a url, getUpdates is refused
        self.webhook: dict[str, Any] = {}

    # --- set-up ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    def add_group(self, chat_id: str, *, title: str = "Agents", forum: bool = True) -> None:
        self.chats[chat_id] = {"id": int(chat_id), "type": "supergroup", "title": title}
        if forum:
            self.chats[chat_id]["is_forum"] = True

    def set_member(self, chat_id: str, user_id: int, status: str, **rights: bool) -> None:
        user = {"id": user_id, "is_bot": user_id == BOT_ID, "first_name": f"user{user_id}"}
        member: dict[str, Any] = {"status": status, "user": user}
        if status == "creator":
            member["is_anonymous"] = False
        if status == "administrator":
            member.update(
                {
                    "can_be_edited": False,
                    "is_anonymous": False,
                    "can_manage_chat": True,
                    "can_delete_messages": True,
                    "can_manage_video_chats": False,
                    "can_restrict_members": False,
                    "can_promote_members": False,
                    "can_change_info": False,
                    "can_invite_users": True,
                    "can_post_stories": False,
                    "can_edit_stories": False,
                    "can_delete_stories": False,
                    "can_pin_messages": True,
                    "can_manage_topics": False,
                }
            )
            member.update(rights)
        self.members[(chat_id, str(user_id))] = member

    def fail(self, method: str, error: ApiError) -> None:
        self.failures[method].append(error)

    def break_polling(self) -> None:
        """The ``getUpdates`` call waiting now (or else the next one) fails: 502 Bad Gateway."""
        self._poll_broken.set()

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue an update for ``getUpdates``; gives it the next ``update_id``."""
        update = {**update, "update_id": next(self._update_ids)}
        self._updates.append(update)
        self._new_update.set()
        return int(update["update_id"])

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        return [c.params for c in self.calls if c.method == method]

    def message_ids(self, chat_id: str) -> list[int]:
        """Ids of the messages the bot sent to a chat, oldest first."""
        return [int(m["message_id"]) for m in self.sent if str(m["chat"]["id"]) == chat_id]

    def texts_to(self, chat_id: str) -> list[str]:
        return [
            str(p["text"]) for p in self.calls_to("sendMessage") if str(p["chat_id"]) == chat_id
        ]

    async def wait_for_call(self, method: str, *, within: float = 10, **params: Any) -> None:
        """Wait (event-driven, at most ``within`` seconds) until a call of ``method`` with
        ``params`` is recorded."""

        def seen() -> bool:
            return any(
                all(str(p.get(k)) == str(v) for k, v in params.items())
                for p in self.calls_to(method)
            )

        async with self._recorded:
            await asyncio.wait_for(self._recorded.wait_for(seen), within)

    # --- server ---------------------------------------------------------------------------

    async def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)  # connections queue from now on, so no waiting for the server
        self.port = sock.getsockname()[1]
        app = Starlette(routes=[Route("/bot{token}/{method}", self._endpoint, methods=["POST"])])
        config = uvicorn.Config(app, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))

    async def stop(self) -> None:
        self._closing.set()
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _endpoint(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != TOKEN:
            return JSONResponse(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status_code=401
            )
        method = request.path_params["method"]
        params = await _params(request)
        self.calls.append(Call(method, params))
        async with self._recorded:
            self._recorded.notify_all()
        if self.failures[method]:
            error = self.failures[method].popleft()
            return JSONResponse(error.body, status_code=error.status)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return JSONResponse(
                {"ok": False, "error_code": 404, "description": "Not Found: method not found"},
                status_code=404,
            )
        result = await handler(params)
        if isinstance(result, ApiError):
            return JSONResponse(result.body, status_code=result.status)
        return JSONResponse({"ok": True, "result": result})

    # --- methods --------------------------------------------------------------------------

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Helpdesk",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": self.can_read_all_group_messages,
            "supports_inline_queries": False,
        }

    async def _api_getMe(self, _: dict[str, Any]) -> Any:
        return self._bot_user()

    async def _api_deleteWebhook(self, _: dict[str, Any]) -> Any:
        self.webhook = {}
        return True

    async def _api_setWebhook(self, params: dict[str, Any]) -> Any:
        url = str(params.get("url", ""))
        if url and not url.startswith("https://"):
            return _bad_request(
                "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        secret = str(params.get("secret_token", ""))
        if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            return _bad_request("Bad Request: secret token contains unallowed characters")
        self.webhook = {"url": url, "allowed_updates": params.get("allowed_updates")} if url else {}
        return True

    async def _api_getWebhookInfo(self, _: dict[str, Any]) -> Any:
        info: dict[str, Any] = {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        for key in ("last_error_date", "last_error_message", "allowed_updates"):
            if self.webhook.get(key) is not None:
                info[key] = self.webhook[key]
        return info

    async def _api_getUpdates(self, params: dict[str, Any]) -> Any:
        if self.webhook.get("url"):
            return WEBHOOK_ACTIVE
        offset = int(params.get("offset", 0) or 0)
        while self._updates and self._updates[0]["update_id"] < offset:
            self._updates.popleft()  # confirmed by the client's offset
        if not self._updates and float(params.get("timeout", 0) or 0) > 0:
            self._new_update.clear()
            waiters = [
                asyncio.ensure_future(self._new_update.wait()),
                asyncio.ensure_future(self._closing.wait()),
                asyncio.ensure_future(self._poll_broken.wait()),
            ]
            await asyncio.wait(
                waiters, timeout=float(params["timeout"]), return_when="FIRST_COMPLETED"
            )
            for waiter in waiters:
                waiter.cancel()
        if self._poll_broken.is_set():
            self._poll_broken.clear()
            return BAD_GATEWAY  # the updates stay queued for the next call
        return list(self._updates)

    async def _api_getChat(self, params: dict[str, Any]) -> Any:
        chat = self.chats.get(str(params["chat_id"]))
        if chat is None:
            return ApiError(
                400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
            )
        return {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    async def _api_getChatMember(self, params: dict[str, Any]) -> Any:
        key = (str(params["chat_id"]), str(params["user_id"]))
        user_id = int(params["user_id"])
        default = {"status": "member", "user": {"id": user_id, "is_bot": False, "first_name": "x"}}
        return self.members.get(key, default)

    def _chat(self, chat_id: str) -> dict[str, Any]:
        if chat_id in self.chats:
            return self.chats[chat_id]
        return {"id": int(chat_id), "type": "private", "first_name": "Customer"}

    async def _api_sendMessage(self, params: dict[str, Any]) -> Any:
        chat_id = str(params["chat_id"])
        refused = text_refusal(str(params.get("text", "")))
        if refused is not None:
            return refused
        message: dict[str, Any] = {
            "message_id": next(self._message_ids[chat_id]),
            "date": DATE,
            "chat": self._chat(chat_id),
            "from": self._bot_user(),
            "text": params["text"],
        }
        if "message_thread_id" in params:
            if int(params["message_thread_id"]) not in self.topics[chat_id]:
                return ApiError(
                    400,
                    {
                        "ok": False,
                        "error_code": 400,
                        "description": "Bad Request: message thread not found",
                    },
                )
            message["message_thread_id"] = int(params["message_thread_id"])
            message["is_topic_message"] = True
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        self.sent.append(message)
        return message

    async def _api_editMessageText(self, params: dict[str, Any]) -> Any:
        chat_id = str(params["chat_id"])
        refused = text_refusal(str(params.get("text", "")))
        if refused is not None:
            return refused
        message: dict[str, Any] = {
            "message_id": int(params["message_id"]),
            "date": DATE,
            "edit_date": DATE + 60,
            "chat": self._chat(chat_id),
            "from": self._bot_user(),
            "text": params["text"],
        }
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        return message

    async def _api_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        """A query is answered once; an alert holds 200 characters."""
        query_id = str(params["callback_query_id"])
        if query_id in self._answered:
            return _bad_request(
                "Bad Request: query is too old and response timeout expired or query ID is invalid"
            )
        if _utf16(str(params.get("text", ""))) > 200:
            return _bad_request("Bad Request: MESSAGE_TOO_LONG")
        self._answered.add(query_id)
        return True

    async def _api_sendPhoto(self, params: dict[str, Any]) -> Any:
        return await self._send_media(params, "photo")

    async def _api_sendDocument(self, params: dict[str, Any]) -> Any:
        return await self._send_media(params, "document")

    async def _send_media(self, params: dict[str, Any], kind: str) -> Any:
        """Only the caption limit is modelled; the file itself is not kept."""
        refused = caption_refusal(str(params.get("caption", "")))
        if refused is not None:
            return refused
        chat_id = str(params["chat_id"])
        message = {
            "message_id": next(self._message_ids[chat_id]),
            "date": DATE,
            "chat": self._chat(chat_id),
            "from": self._bot_user(),
            "caption": params.get("caption", ""),
        }
        self.sent.append(message)
        return message

    async def _api_createForumTopic(self, params: dict[str, Any]) -> Any:
        topic_id = next(self._topic_ids)
        self.topics[str(params["chat_id"])].add(topic_id)
        return {"message_thread_id": topic_id, "name": params["name"], "icon_color": 7322096}

    async def _api_closeForumTopic(self, params: dict[str, Any]) -> Any:
        chat_id, topic = str(params["chat_id"]), int(params["message_thread_id"])
        if topic not in self.topics[chat_id]:
            return _bad_request("Bad Request: TOPIC_ID_INVALID")
        self.closed_topics[chat_id].add(topic)
        return True


async def _params(request: Request) -> dict[str, Any]:
    """PTB posts url-encoded fields (nested objects as JSON strings); others post JSON."""
    body = (await request.body()).decode()
    if request.headers.get("content-type", "").startswith("application/json"):
        return dict(json.loads(body)) if body else {}
    params: dict[str, Any] = {}
    for key, text in parse_qsl(body, keep_blank_values=True):
        if text[:1] in "{[":
            with contextlib.suppress(ValueError):
                params[key] = json.loads(text)
                continue
        params[key] = text
    return params


@contextlib.asynccontextmanager
async def forum_with_admin_bot(group: str) -> AsyncIterator[TelegramApi]:
    """A running stand-in whose agent group is a forum where the bot is an admin that may
    manage topics: the set-up most Telegram tests start from."""
    api = TelegramApi()
    api.add_group(group, forum=True)
    api.set_member(group, BOT_ID, "administrator", can_manage_topics=True)
    await api.start()
    try:
        yield api
    finally:
        await api.stop()
