"""A minimal stand-in of Discord's REST API on 127.0.0.1 (port 0), for the one smoke test that
proves ``DISCORD_API_URL`` really moves discord.py's HTTP traffic, and that a real 429 response
goes through discord.py's own rate-limit handling into the outbox's retry.

It serves only what a sending process needs: ``GET /users/@me`` and
``GET /oauth2/applications/@me`` (login) and ``POST /channels/{id}/messages``. Payload shapes
follow Discord's documented User, Application and Message objects. Everything else is 404.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_USER = {
    "id": "1100000000000000001",
    "username": "Lumio Help",
    "discriminator": "0",
    "global_name": None,
    "avatar": None,
    "bot": True,
    "flags": 0,
}


@dataclass
class DiscordWire:
    base_url: str = ""
    posted: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (channel, body)
    rate_limit_next: float | None = None  # answer the next message POST with a 429
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1200000000000000001))

    def _json(self, data: Any, status: int = 200, **headers: str) -> web.Response:
        return web.Response(
            status=status,
            body=json.dumps(data).encode(),
            headers={"Content-Type": "application/json", **headers},
        )

    async def me(self, request: web.Request) -> web.Response:
        return self._json(BOT_USER)

    async def application(self, request: web.Request) -> web.Response:
        return self._json(
            {
                "id": "1100000000000000002",
                "name": "Lumio Help",
                "description": "",
                "icon": None,
                "bot_public": False,
                "bot_require_code_grant": False,
                "owner": {**BOT_USER, "id": "1100000000000000003", "bot": False},
                "verify_key": "0" * 64,
                "flags": 0,
            }
        )

    async def post_message(self, request: web.Request) -> web.Response:
        channel = request.match_info["channel"]
        if self.rate_limit_next is not None:
            retry_after, self.rate_limit_next = self.rate_limit_next, None
            return self._json(
                {"message": "You are being rate limited.", "retry_after": retry_after},
                status=429,
                Via="1.1 google",
                **{"Retry-After": str(int(retry_after)), "X-RateLimit-Scope": "user"},
            )
        body = await request.json()
        self.posted.append((channel, body))
        return self._json(
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
                "type": 0,
                "flags": 0,
                "components": body.get("components", []),
            }
        )


@asynccontextmanager
async def discord_wire() -> AsyncIterator[DiscordWire]:
    wire = DiscordWire()
    app = web.Application()
    app.router.add_get("/api/v10/users/@me", wire.me)
    app.router.add_get("/api/v10/oauth2/applications/@me", wire.application)
    app.router.add_post("/api/v10/channels/{channel}/messages", wire.post_message)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    wire.base_url = f"http://127.0.0.1:{port}/api/v10"
    try:
        yield wire
    finally:
        await runner.cleanup()
