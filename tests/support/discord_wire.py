"""A minimal stand-in of Discord's REST API and gateway on 127.0.0.1 (port 0), for the smoke
tests that prove ``DISCORD_API_URL`` / ``DISCORD_GATEWAY_URL`` really move discord.py's traffic,
that a real 429 response goes through discord.py's own rate-limit handling into the outbox's
retry, and that a fatal gateway close is not survived silently.

REST: ``GET /users/@me`` and ``GET /oauth2/applications/@me`` (login),
``PUT /applications/{id}/commands`` (the command sync), ``POST``/``GET`` channel messages
(404 code 10003 for a channel it does not know: channel ``42`` and the threads started in it)
and ``POST /channels/{id}/messages/{id}/threads`` (a thread with the message's id; or refused
with 403 code 50013, a 5xx, or a 429 as ``threads_refused`` / ``threads_rate_limited`` say).
Gateway (``/gateway``): Hello, then READY after Identify — or a close with the code in
``close_on_identify`` — and ``close_gateway(code)`` closes a live session the way Discord ends
one for good (4004 authentication failed, 4014 disallowed intents). Payload shapes follow
Discord's documented objects. Everything else is 404. No heartbeat ACKs, no resume, no
compression: those are not what these tests are about.

For ``helpdesk doctor``: every REST call must carry ``Authorization: Bot <TOKEN>`` (else 401,
as Discord answers a bad token); the application's ``flags`` say which privileged intents are
on (``intent_flags``); ``GET /channels/{id}`` (403 code 50001 for a channel the bot cannot see,
``hidden``), ``GET /guilds/{id}`` with its roles and ``GET /guilds/{id}/members/{user}`` let
the bot's permissions in a channel be computed from ``everyone``, ``bot_roles`` and
``overwrites``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

BOT_USER = {
    "id": "1100000000000000001",
    "username": "Lumio Help",
    "discriminator": "0",
    "global_name": None,
    "avatar": None,
    "bot": True,
    "flags": 0,
}


APPLICATION_ID = "1100000000000000002"
GUILD_ID = "1000000000000000042"
TOKEN = "not-a-real-token"
BOT_ROLE_ID = "1000000000000000077"
GATEWAY_GUILD_MEMBERS_LIMITED = 1 << 15
GATEWAY_MESSAGE_CONTENT_LIMITED = 1 << 19
# permission bits the help desk needs in an agent channel
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
READ_MESSAGE_HISTORY = 1 << 16
MANAGE_THREADS = 1 << 34
CREATE_PUBLIC_THREADS = 1 << 35
SEND_MESSAGES_IN_THREADS = 1 << 38
HELPDESK_PERMISSIONS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | READ_MESSAGE_HISTORY
    | MANAGE_THREADS
    | CREATE_PUBLIC_THREADS
    | SEND_MESSAGES_IN_THREADS
)


@dataclass
class DiscordWire:
    base_url: str = ""
    gateway_url: str = ""
    posted: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (channel, body)
    rate_limit_next: float | None = None  # answer the next message POST with a 429
    close_on_identify: int | None = None  # a gateway close code instead of READY
    channels: set[str] = field(default_factory=lambda: {"42"})  # text channels and threads
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> Message
    threads_refused: int | None = None  # answer thread creation with this status (403, 500)
    threads_rate_limited: float | None = None  # answer the next thread creation with a 429
    identified: asyncio.Event = field(default_factory=asyncio.Event)
    # the application's privileged intents (flags), as a bot in under 100 servers has them
    intent_flags: int = GATEWAY_GUILD_MEMBERS_LIMITED | GATEWAY_MESSAGE_CONTENT_LIMITED
    everyone: int = VIEW_CHANNEL | READ_MESSAGE_HISTORY  # the @everyone role's permissions
    bot_roles: dict[str, int] = field(default_factory=lambda: {BOT_ROLE_ID: HELPDESK_PERMISSIONS})
    # channel id -> its permission overwrites ({"id", "type", "allow", "deny"}, as strings)
    overwrites: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    hidden: set[str] = field(default_factory=set)  # channels the bot may not see
    _sockets: list[web.WebSocketResponse] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1200000000000000001))

    def _json(self, data: Any, status: int = 200, **headers: str) -> web.Response:
        return web.Response(
            status=status,
            body=json.dumps(data).encode(),
            headers={"Content-Type": "application/json", **headers},
        )

    @web.middleware
    async def authorized(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path.startswith("/api/") and request.headers.get("Authorization") != (
            f"Bot {TOKEN}"
        ):
            return self._json({"message": "401: Unauthorized", "code": 0}, status=401)
        response: web.StreamResponse = await handler(request)
        return response

    async def me(self, request: web.Request) -> web.Response:
        return self._json(BOT_USER)

    async def channel(self, request: web.Request) -> web.Response:
        channel = request.match_info["channel"]
        if channel in self.hidden:
            return self._error(403, 50001, "Missing Access")
        if channel not in self.channels:
            return self._error(404, 10003, "Unknown Channel")
        return self._json(
            {
                "id": channel,
                "type": 0,
                "guild_id": GUILD_ID,
                "name": f"agents-{channel}",
                "position": 0,
                "permission_overwrites": self.overwrites.get(channel, []),
                "topic": None,
                "nsfw": False,
                "last_message_id": None,
                "rate_limit_per_user": 0,
                "parent_id": None,
                "flags": 0,
            }
        )

    async def guild(self, request: web.Request) -> web.Response:
        if request.match_info["guild"] != GUILD_ID:
            return self._error(404, 10004, "Unknown Guild")
        roles = [self._role(GUILD_ID, "@everyone", self.everyone)] + [
            self._role(role, "Helpdesk", permissions)
            for role, permissions in self.bot_roles.items()
        ]
        return self._json(
            {
                "id": GUILD_ID,
                "name": "Lumio",
                "icon": None,
                "splash": None,
                "discovery_splash": None,
                "owner_id": "1100000000000000003",
                "afk_channel_id": None,
                "afk_timeout": 300,
                "verification_level": 1,
                "default_message_notifications": 1,
                "explicit_content_filter": 0,
                "roles": roles,
                "emojis": [],
                "features": [],
                "mfa_level": 0,
                "application_id": None,
                "system_channel_id": None,
                "system_channel_flags": 0,
                "rules_channel_id": None,
                "vanity_url_code": None,
                "description": None,
                "banner": None,
                "premium_tier": 0,
                "preferred_locale": "en-US",
                "public_updates_channel_id": None,
                "nsfw_level": 0,
                "premium_progress_bar_enabled": False,
            }
        )

    def _role(self, role_id: str, name: str, permissions: int) -> dict[str, Any]:
        return {
            "id": role_id,
            "name": name,
            "color": 0,
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": 0 if role_id == GUILD_ID else 1,
            "permissions": str(permissions),
            "managed": role_id != GUILD_ID,
            "mentionable": False,
            "flags": 0,
        }

    async def member(self, request: web.Request) -> web.Response:
        if request.match_info["user"] != BOT_USER["id"]:
            return self._error(404, 10007, "Unknown Member")
        return self._json(
            {
                "user": BOT_USER,
                "nick": None,
                "avatar": None,
                "roles": list(self.bot_roles),
                "joined_at": "2026-01-01T00:00:00+00:00",
                "premium_since": None,
                "deaf": False,
                "mute": False,
                "flags": 0,
                "pending": False,
            }
        )

    async def application(self, request: web.Request) -> web.Response:
        return self._json(
            {
                "id": APPLICATION_ID,
                "name": "Lumio Help",
                "description": "",
                "icon": None,
                "bot_public": False,
                "bot_require_code_grant": False,
                "owner": {**BOT_USER, "id": "1100000000000000003", "bot": False},
                "verify_key": "0" * 64,
                "flags": self.intent_flags,
            }
        )

    def _rate_limited(self, retry_after: float) -> web.Response:
        return self._json(
            {"message": "You are being rate limited.", "retry_after": retry_after, "global": False},
            status=429,
            Via="1.1 google",
            **{"Retry-After": str(int(retry_after)), "X-RateLimit-Scope": "user"},
        )

    def _error(self, status: int, code: int, message: str) -> web.Response:
        return self._json({"message": message, "code": code}, status=status)

    async def get_message(self, request: web.Request) -> web.Response:
        message = self.messages.get(request.match_info["message"])
        if message is None or message["channel_id"] != request.match_info["channel"]:
            return self._error(404, 10008, "Unknown Message")
        return self._json(message)

    async def start_thread(self, request: web.Request) -> web.Response:
        """A thread from a message has the message's id, as on Discord."""
        channel, message_id = request.match_info["channel"], request.match_info["message"]
        if self.threads_rate_limited is not None:
            retry_after, self.threads_rate_limited = self.threads_rate_limited, None
            return self._rate_limited(retry_after)
        if self.threads_refused == 403:
            return self._error(403, 50013, "Missing Permissions")
        if self.threads_refused is not None:
            return self._error(self.threads_refused, 0, "Internal Server Error")
        if message_id not in self.messages:
            return self._error(404, 10008, "Unknown Message")
        body = await request.json()
        self.channels.add(message_id)
        return self._json(
            {
                "id": message_id,
                "type": 11,
                "guild_id": GUILD_ID,
                "parent_id": channel,
                "owner_id": BOT_USER["id"],
                "name": body["name"],
                "last_message_id": None,
                "rate_limit_per_user": 0,
                "message_count": 0,
                "member_count": 1,
                "thread_metadata": {
                    "archived": False,
                    "auto_archive_duration": body.get("auto_archive_duration", 1440),
                    "archive_timestamp": "2026-01-01T00:00:00+00:00",
                    "locked": False,
                },
                "flags": 0,
            },
            status=201,
        )

    async def post_message(self, request: web.Request) -> web.Response:
        channel = request.match_info["channel"]
        if self.rate_limit_next is not None:
            retry_after, self.rate_limit_next = self.rate_limit_next, None
            return self._rate_limited(retry_after)
        if channel not in self.channels:
            return self._error(404, 10003, "Unknown Channel")
        body = await request.json()
        self.posted.append((channel, body))
        message = self._message(channel, body)
        self.messages[message["id"]] = message
        return self._json(message)

    def _message(self, channel: str, body: dict[str, Any]) -> dict[str, Any]:
        reference = body.get("message_reference")
        return dict(
            {
                "id": str(next(self._ids)),
                "channel_id": channel,
                "author": BOT_USER,
                "content": body.get("content", ""),
                "timestamp": "2026-01-01T00:00:00+00:00",
                "edited_timestamp": None,
                "tts": False,
                "mention_everyone": False,
                "mentions": [],
                "mention_roles": [],
                "attachments": [],
                "embeds": [],
                "pinned": False,
                "type": 19 if reference else 0,
                "flags": 0,
                "components": body.get("components", []),
            },
            **({"message_reference": reference} if reference else {}),
        )

    async def sync_commands(self, request: web.Request) -> web.Response:
        return self._json([])

    async def gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._sockets.append(socket)
        await socket.send_json({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})
        async for frame in socket:
            if frame.type != WSMsgType.TEXT or json.loads(frame.data).get("op") != 2:
                continue  # heartbeats and the like
            if self.close_on_identify is not None:
                await socket.close(code=self.close_on_identify, message=b"refused")
                break
            await socket.send_json({"op": 0, "t": "READY", "s": 1, "d": self._ready()})
            self.identified.set()
        return socket

    def _ready(self) -> dict[str, Any]:
        return {
            "v": 10,
            "user": BOT_USER,
            "guilds": [],
            "session_id": "wire-session",
            "resume_gateway_url": "ws://127.0.0.1:9/",
            "application": {"id": APPLICATION_ID, "flags": 0},
        }

    async def close_gateway(self, code: int) -> None:
        """End every live session with ``code``, as Discord does when it will not have the bot
        back (4004: the token was reset; 4014: a privileged intent was switched off)."""
        for socket in self._sockets:
            await socket.close(code=code, message=b"closed by the stand-in")


@asynccontextmanager
async def discord_wire() -> AsyncIterator[DiscordWire]:
    wire = DiscordWire()
    app = web.Application(middlewares=[wire.authorized])
    app.router.add_get("/api/v10/users/@me", wire.me)
    app.router.add_get("/api/v10/channels/{channel}", wire.channel)
    app.router.add_get("/api/v10/guilds/{guild}", wire.guild)
    app.router.add_get("/api/v10/guilds/{guild}/members/{user}", wire.member)
    app.router.add_get("/api/v10/oauth2/applications/@me", wire.application)
    app.router.add_post("/api/v10/channels/{channel}/messages", wire.post_message)
    app.router.add_get("/api/v10/channels/{channel}/messages/{message}", wire.get_message)
    app.router.add_post("/api/v10/channels/{channel}/messages/{message}/threads", wire.start_thread)
    app.router.add_put("/api/v10/applications/{app}/commands", wire.sync_commands)
    app.router.add_get("/gateway", wire.gateway)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    wire.base_url = f"http://127.0.0.1:{port}/api/v10"
    wire.gateway_url = f"ws://127.0.0.1:{port}/gateway"
    try:
        yield wire
    finally:
        for socket in wire._sockets:
            await socket.close()
        await runner.cleanup()
