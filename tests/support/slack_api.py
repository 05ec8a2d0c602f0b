"""A local stand-in for Slack: the Web API (``/api/<method>``) and the Socket Mode websocket,
on 127.0.0.1 with a port of its own, for the real slack-bolt / slack_sdk to talk to.

It records every Web API call (``calls``, ``calls_to``), answers with the documented response
shapes, can be told to fail a method once (``fail`` → ``{"ok": false, "error": …}``,
``rate_limit`` → HTTP 429 with ``Retry-After``), and pushes Socket Mode envelopes
(``push``) whose acknowledgements tests can wait for (``ack_of``). Plus helpers to load the
payload fixtures in ``tests/fixtures/slack`` and to sign HTTP Events API requests as Slack does.

What it cannot prove: real scopes and permission checks, real rate-limit budgets, how Slack
renders Block Kit.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import itertools
import json
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "slack"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
TEAM_ID = "T0TEST"
ACK_TIMEOUT = 10.0  # seconds: a safety net against hangs, never a wait for timing


def load_fixture(name: str) -> dict[str, Any]:
    """A fresh copy of ``tests/fixtures/slack/<name>.json``."""
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return copy.deepcopy(data)


def sign(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack sends with an HTTP request: ``v0=hex(HMAC_SHA256(secret, v0:ts:body))``."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + ts.encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


@dataclass(frozen=True)
class Call:
    method: str
    args: dict[str, Any]
    response: dict[str, Any]


@dataclass(frozen=True)
class _Failure:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class SlackStandIn:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.users: dict[str, str] = {}  # user id → display name (users.info)
        self.usergroups: dict[str, list[str]] = {}  # S… → member ids (usergroups.users.list)
        self.acks: dict[str, dict[str, Any]] = {}
        self._failures: dict[str, deque[_Failure]] = defaultdict(deque)
        self._ts = itertools.count(1)
        self._envelopes = itertools.count(1)
        self._ack_waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._socket: web.WebSocketResponse | None = None
        self._socket_ready = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_get("/link/", self._link)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    # --- scripting --------------------------------------------------------------------------

    def fail(self, method: str, error: str) -> None:
        """The next call of ``method`` answers ``{"ok": false, "error": error}``."""
        self._failures[method].append(_Failure(200, {"ok": False, "error": error}))

    def rate_limit(self, method: str, retry_after: int) -> None:
        """The next call of ``method`` answers HTTP 429 with ``Retry-After``."""
        self._failures[method].append(
            _Failure(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)})
        )

    def calls_to(self, method: str, **match: Any) -> list[dict[str, Any]]:
        """Arguments of the calls to ``method`` whose arguments include ``match``."""
        return [
            c.args
            for c in self.calls
            if c.method == method and all(c.args.get(k) == v for k, v in match.items())
        ]

    def posts(self, channel: str, **match: Any) -> list[Call]:
        """Messages the bot posted (successfully) to ``channel``."""
        return [
            c
            for c in self.calls
            if c.method == "chat.postMessage"
            and c.response.get("ok")
            and c.args.get("channel") == channel
            and all(c.args.get(k) == v for k, v in match.items())
        ]

    # --- Socket Mode ------------------------------------------------------------------------

    async def push(self, kind: str, payload: dict[str, Any], *, retry_attempt: int = 0) -> str:
        """Send an envelope (``events_api``, ``interactive``, ``slash_commands``) down the
        websocket; returns its envelope id."""
        await asyncio.wait_for(self._socket_ready.wait(), ACK_TIMEOUT)
        assert self._socket is not None
        envelope_id = f"env-{next(self._envelopes)}"
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
        }
        if kind == "events_api":
            envelope["retry_attempt"] = retry_attempt
            envelope["retry_reason"] = "timeout" if retry_attempt else ""
        self._ack_waiters[envelope_id] = asyncio.get_running_loop().create_future()
        await self._socket.send_str(json.dumps(envelope))
        return envelope_id

    async def ack_of(self, envelope_id: str) -> dict[str, Any]:
        """The app's acknowledgement of an envelope (it acks once it has handled it)."""
        return await asyncio.wait_for(self._ack_waiters[envelope_id], ACK_TIMEOUT)

    async def deliver(self, kind: str, payload: dict[str, Any], **kw: Any) -> dict[str, Any]:
        """Push an envelope and wait for its acknowledgement."""
        return await self.ack_of(await self.push(kind, payload, **kw))

    async def _link(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._socket = ws
        await ws.send_str(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": 1,
                    "debug_info": {"host": "applink-stand-in", "approximate_connection_time": 3600},
                    "connection_info": {"app_id": "A0TEST"},
                }
            )
        )
        self._socket_ready.set()
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            envelope_id = data.get("envelope_id")
            if envelope_id:
                self.acks[envelope_id] = data
                waiter = self._ack_waiters.get(envelope_id)
                if waiter is not None and not waiter.done():
                    waiter.set_result(data)
        self._socket_ready.clear()
        return ws

    # --- Web API ----------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                args.update(await request.json())
            else:
                args.update({k: v for k, v in (await request.post()).items()})
        for key in ("blocks", "view"):  # form-encoded calls send these as JSON strings
            if isinstance(args.get(key), str):
                args[key] = json.loads(args[key])
        if self._failures[method]:
            failure = self._failures[method].popleft()
            self.calls.append(Call(method, args, failure.body))
            return web.json_response(failure.body, status=failure.status, headers=failure.headers)
        answer = self._answer(method, args)
        self.calls.append(Call(method, args, answer))
        return web.json_response(answer)

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://helpdesk-test.slack.com/",
                "team": "Helpdesk Test",
                "user": "helpdesk",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
                "is_enterprise_install": False,
            }
        if method == "chat.postMessage":
            ts = f"1767604{next(self._ts):03d}.000100"
            channel = str(args.get("channel", ""))
            message = {"type": "message", "text": args.get("text", ""), "ts": ts, "bot_id": BOT_ID}
            if args.get("thread_ts"):
                message["thread_ts"] = args["thread_ts"]
            return {"ok": True, "channel": channel, "ts": ts, "message": message}
        if method == "chat.update":
            return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}
        if method == "views.open":
            return {"ok": True, "view": {"id": "V0REPLY0001", **(args.get("view") or {})}}
        if method == "users.info":
            user = str(args.get("user", ""))
            if user not in self.users:
                return {"ok": False, "error": "user_not_found"}
            name = self.users[user]
            return {
                "ok": True,
                "user": {
                    "id": user,
                    "team_id": TEAM_ID,
                    "name": name.lower(),
                    "real_name": name,
                    "is_bot": False,
                    "profile": {"display_name": name, "real_name": name},
                },
            }
        if method == "conversations.info":
            channel = str(args.get("channel", ""))
            return {
                "ok": True,
                "channel": {"id": channel, "is_im": channel.startswith("D"), "is_member": True},
            }
        if method == "usergroups.users.list":
            group = str(args.get("usergroup", ""))
            if group not in self.usergroups:
                return {"ok": False, "error": "no_such_subteam"}
            return {"ok": True, "users": self.usergroups[group]}
        if method == "apps.connections.open":
            return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/link/?ticket=stand-in"}
        return {"ok": True}
