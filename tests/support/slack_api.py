"""A local stand-in for Slack: the Web API (``/api/<method>``) and the Socket Mode websocket,
on 127.0.0.1 with a port of its own, for the real slack-bolt / slack_sdk to talk to.

It records every Web API call (``calls``, ``calls_to``), answers with the documented response
shapes, can be told to fail a method once (``fail`` → ``{"ok": false, "error": …}``,
``rate_limit`` → HTTP 429 with ``Retry-After``), and pushes Socket Mode envelopes
(``push``) whose acknowledgements tests can wait for (``ack_of``); ``drop`` closes the websocket
from Slack's side (``push`` then waits for the app to connect again). Plus helpers to load the
payload fixtures in ``tests/fixtures/slack`` and to sign HTTP Events API requests as Slack does.

It refuses what Slack refuses: posting where the bot is not a member (``not_in_channel``,
``channel_not_found``; ``join`` / ``open_im`` say where it is), an ephemeral message for someone
not in the channel (``user_not_in_channel``), Block Kit past Slack's limits (a section over
3,000 characters, more than 50 blocks or 25 buttons in a block → ``invalid_blocks``; text over
40,000 → ``msg_too_long``), an edit of a message that was never posted (``message_not_found``),
a ``response_url`` past its five uses (HTTP 404), a file completed before its bytes were
uploaded. It serves ``response_url``s (``hook_url``) and the external file upload
(``files.getUploadURLExternal`` → the upload URL here → ``files.completeUploadExternal``), and
records private answers apart from public posts (``private_posts``). ``users.info`` can be held
back (``hold_lookups``) to show what waits on it.

Tokens: once ``issue`` has named the workspace's tokens, any other gets ``invalid_auth`` (no
token at all: ``not_authed``); a bot token's scopes come back in the ``x-oauth-scopes`` header of
every answer, and a method needing a scope it lacks answers ``missing_scope`` with ``needed`` and
``provided``; an app-level (``xapp-``) token may call only ``apps.connections.open``, which takes
no other (``not_allowed_token_type``). Before any ``issue`` every token is accepted with every
scope the adapter uses. ``conversations.info`` says ``is_member`` for channels the bot joined,
``is_member: false`` for public channels it is not in (``public_channels``), and
``channel_not_found`` for the rest.

What it cannot prove: real permission checks beyond scopes, real rate-limit budgets, how Slack
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

from aiohttp import WSCloseCode, WSMsgType, web

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "slack"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
TEAM_ID = "T0TEST"
ACK_TIMEOUT = 10.0  # seconds: a safety net against hangs, never a wait for timing
SECTION_MAX_CHARS = 3000
BLOCKS_MAX = 50
ELEMENTS_MAX = 25
TEXT_MAX_CHARS = 40_000
RESPONSE_URL_USES = 5
# the scope each Web API method needs (https://api.slack.com/methods), for the ones called here
METHOD_SCOPES = {
    "chat.postMessage": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.update": "chat:write",
    "conversations.open": "im:write",
    "users.info": "users:read",
    "usergroups.users.list": "usergroups:read",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
}
EVERY_SCOPE = frozenset(
    {
        *METHOD_SCOPES.values(),
        "im:history",
        "channels:history",
        "groups:history",
        "app_mentions:read",
        "commands",
        "channels:read",
        "groups:read",
    }
)
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})


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
        self.members: dict[str, set[str]] = {}  # channels the bot is in → their people
        self.public_channels: dict[str, str] = {}  # public channels the bot is not in → names
        self.tokens: dict[str, frozenset[str]] = {}  # issued tokens → their scopes
        self.ims: dict[str, str] = {}  # the bot's DMs → the person
        self.messages: set[tuple[str, str]] = set()  # (channel, ts) posted: what can be edited
        self.hooks: dict[str, tuple[str, str, int]] = {}  # response_url id → channel, user, uses
        self.uploads: dict[str, bytes] = {}  # file id → the bytes POSTed to its upload URL
        self._upload_ids = itertools.count(1)
        self._lookups_open: asyncio.Event | None = None
        self.lookup_waiting = asyncio.Event()  # set when a held users.info call waits

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_get("/link/", self._link)
        app.router.add_post("/hooks/{hook}", self._hook)
        app.router.add_post("/upload/{file}", self._upload)
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

    # --- the workspace ----------------------------------------------------------------------

    def join(self, channel: str, *people: str) -> None:
        """The bot is a member of ``channel``, with ``people`` in it."""
        self.members.setdefault(channel, set()).update(people)

    def open_im(self, channel: str, person: str) -> None:
        """``channel`` is the bot's DM with ``person``."""
        self.ims[channel] = person
        self.join(channel, person)

    def issue(self, token: str, scopes: frozenset[str] | set[str] = EVERY_SCOPE) -> None:
        """``token`` is valid (a bot token with ``scopes``, or an app-level ``xapp-`` token);
        from now on tokens never issued are refused."""
        self.tokens[token] = frozenset(scopes)

    def hook_url(self, channel: str, user: str) -> str:
        """A ``response_url`` for a command or click by ``user`` in ``channel``."""
        hook = f"hook-{len(self.hooks) + 1}"
        self.hooks[hook] = (channel, user, 0)
        return f"http://127.0.0.1:{self.port}/hooks/{hook}"

    def expire_hooks(self) -> None:
        """Every ``response_url`` handed out so far has expired (30 minutes in Slack)."""
        self.hooks = {h: (c, u, RESPONSE_URL_USES) for h, (c, u, _) in self.hooks.items()}

    def hold_lookups(self) -> asyncio.Event:
        """``users.info`` waits until the returned event is set."""
        self._lookups_open = asyncio.Event()
        return self._lookups_open

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

    def private_posts(self, user: str) -> list[Call]:
        """What only ``user`` was shown: ephemeral messages and ``response_url`` answers."""
        return [
            c
            for c in self.calls
            if c.method in ("chat.postEphemeral", "response_url")
            and c.response.get("ok")
            and c.args.get("user") == user
        ]

    def posts(self, channel: str, **match: Any) -> list[Call]:
        """Messages the bot posted (successfully, for everyone to see) to ``channel``."""
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

    async def drop(self) -> None:
        """Close the app's websocket from Slack's side, as a Slack host going away does."""
        await asyncio.wait_for(self._socket_ready.wait(), ACK_TIMEOUT)
        assert self._socket is not None
        self._socket_ready.clear()  # pushes wait for the next connection
        await self._socket.close(code=WSCloseCode.GOING_AWAY)

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
        if self._socket is ws:  # not when the app has connected again meanwhile
            self._socket_ready.clear()
        return ws

    # --- response_url and the file upload URL ------------------------------------------------

    async def _hook(self, request: web.Request) -> web.Response:
        hook = request.match_info["hook"]
        body = await request.json()
        if hook not in self.hooks or self.hooks[hook][2] >= RESPONSE_URL_USES:
            self.calls.append(Call("response_url", body, {"ok": False, "error": "used_url"}))
            return web.Response(status=404, text="used_url")
        channel, user, uses = self.hooks[hook]
        self.hooks[hook] = (channel, user, uses + 1)
        error = _block_errors(body)
        answer: dict[str, Any] = {"ok": False, "error": error} if error else {"ok": True}
        self.calls.append(Call("response_url", {**body, "channel": channel, "user": user}, answer))
        return web.Response(status=400 if error else 200, text=error or "ok")

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file"]
        if file_id not in self.uploads:
            return web.Response(status=404, text="unknown upload")
        self.uploads[file_id] = await request.read()
        return web.Response(text=f"OK - {len(self.uploads[file_id])}")

    # --- Web API ----------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                args.update(await request.json())
            else:
                args.update({k: v for k, v in (await request.post()).items()})
        for key in ("blocks", "view", "files"):  # form-encoded calls send these as JSON strings
            if isinstance(args.get(key), str):
                args[key] = json.loads(args[key])
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        refused = self._token_refusal(method, token)
        if refused is not None:
            self.calls.append(Call(method, args, refused))
            return web.json_response(refused)
        scopes = self.tokens.get(token, EVERY_SCOPE)
        headers = {} if token.startswith("xapp-") else {"x-oauth-scopes": ",".join(sorted(scopes))}
        needed = METHOD_SCOPES.get(method) or self._info_scope(method, args)
        if needed and needed not in scopes and not token.startswith("xapp-"):
            answer = {
                "ok": False,
                "error": "missing_scope",
                "needed": needed,
                "provided": ",".join(sorted(scopes)),
            }
            self.calls.append(Call(method, args, answer))
            return web.json_response(answer, headers=headers)
        if self._failures[method]:
            failure = self._failures[method].popleft()
            self.calls.append(Call(method, args, failure.body))
            return web.json_response(failure.body, status=failure.status, headers=failure.headers)
        if method == "users.info" and self._lookups_open is not None:
            self.lookup_waiting.set()
            await asyncio.wait_for(self._lookups_open.wait(), ACK_TIMEOUT)
        answer = self._refusal(method, args) or self._answer(method, args)
        self.calls.append(Call(method, args, answer))
        return web.json_response(answer, headers=headers)

    def _token_refusal(self, method: str, token: str) -> dict[str, Any] | None:
        if not token:
            return {"ok": False, "error": "not_authed"}
        if self.tokens and token not in self.tokens:
            return {"ok": False, "error": "invalid_auth"}
        if token.startswith("xapp-") != (method in APP_TOKEN_METHODS):
            return {"ok": False, "error": "not_allowed_token_type"}
        return None

    def _info_scope(self, method: str, args: dict[str, Any]) -> str | None:
        if method != "conversations.info":
            return None
        channel = str(args.get("channel", ""))
        return {"C": "channels:read", "G": "groups:read"}.get(channel[:1])

    def _conversation(self, channel: str) -> dict[str, Any]:
        if channel in self.members:
            name = f"agents-{channel.lower()}"
            return {"ok": True, "channel": _channel_object(channel, name=name, is_member=True)}
        if channel in self.public_channels:
            name = self.public_channels[channel]
            return {"ok": True, "channel": _channel_object(channel, name=name, is_member=False)}
        return {"ok": False, "error": "channel_not_found"}

    def _where_bot_cannot_post(self, channel: str) -> str | None:
        if channel in self.members:
            return None
        return "not_in_channel" if channel.startswith(("C", "G")) else "channel_not_found"

    def _refusal(self, method: str, args: dict[str, Any]) -> dict[str, Any] | None:
        """Slack's answer when it refuses a call, or None."""
        channel = str(args.get("channel") or args.get("channel_id") or "")
        error: str | None = None
        if method in ("chat.postMessage", "chat.postEphemeral", "chat.update"):
            error = self._where_bot_cannot_post(channel) or _block_errors(args)
        user, ts = str(args.get("user", "")), str(args.get("ts", ""))
        if method == "chat.postEphemeral" and not error and user not in self.members[channel]:
            error = "user_not_in_channel"
        if method == "chat.update" and not error and (channel, ts) not in self.messages:
            error = "message_not_found"
        length = int(args.get("length") or 0)
        if method == "files.getUploadURLExternal" and (not args.get("filename") or length <= 0):
            error = "invalid_arguments"
        if method == "files.completeUploadExternal":
            error = self._where_bot_cannot_post(channel) if channel else None
            files = args.get("files") or []
            if not files or any(not self.uploads.get(str(f.get("id"))) for f in files):
                error = error or "file_not_found"  # never uploaded: nothing to share
        return {"ok": False, "error": error} if error else None

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
            self.messages.add((channel, ts))
            return {"ok": True, "channel": channel, "ts": ts, "message": message}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"1767605{next(self._ts):03d}.000100"}
        if method == "conversations.open":
            person = str(args.get("users", ""))
            channel = next((c for c, u in self.ims.items() if u == person), f"D0{person[1:]}")
            self.open_im(channel, person)
            return {"ok": True, "channel": {"id": channel}}
        if method == "files.getUploadURLExternal":
            file_id = f"F0{next(self._upload_ids):05d}"
            self.uploads[file_id] = b""
            url = f"http://127.0.0.1:{self.port}/upload/{file_id}"
            return {"ok": True, "upload_url": url, "file_id": file_id}
        if method == "files.completeUploadExternal":
            shared = [
                {"id": f["id"], "title": f.get("title", ""), "size": len(self.uploads[f["id"]])}
                for f in args.get("files") or []
            ]
            return {"ok": True, "files": shared}
        if method == "chat.update":
            return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}
        if method == "views.open":
            view = args.get("view") or {}
            if isinstance(view, str):
                view = json.loads(view)
            problem = _view_problem(view)
            if problem:
                return {
                    "ok": False,
                    "error": "invalid_arguments",
                    "response_metadata": {"messages": [problem]},
                }
            return {"ok": True, "view": {"id": "V0REPLY0001", **view}}
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
            return self._conversation(str(args.get("channel", "")))
        if method == "usergroups.users.list":
            group = str(args.get("usergroup", ""))
            if group not in self.usergroups:
                return {"ok": False, "error": "no_such_subteam"}
            return {"ok": True, "users": self.usergroups[group]}
        if method == "apps.connections.open":
            return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/link/?ticket=stand-in"}
        return {"ok": True}


def _channel_object(channel: str, *, name: str, is_member: bool) -> dict[str, Any]:
    """A conversation object as conversations.info returns it (the fields read here)."""
    return {
        "id": channel,
        "name": name,
        "is_channel": channel.startswith("C"),
        "is_group": channel.startswith("G"),
        "is_im": channel.startswith("D"),
        "is_private": channel.startswith("G"),
        "is_archived": False,
        "is_general": False,
        "created": 1767600000,
        "creator": "U0ADMIN",
        "is_member": is_member,
    }


def _block_errors(args: dict[str, Any]) -> str | None:
    """Slack's refusal of a message's ``text`` / ``blocks``, or None."""
    blocks = args.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    if not args.get("text") and not blocks:
        return "no_text"
    if len(str(args.get("text") or "")) > TEXT_MAX_CHARS:
        return "msg_too_long"
    if len(blocks) > BLOCKS_MAX:
        return "invalid_blocks"
    for block in blocks:
        if block.get("type") == "section" and len(block["text"]["text"]) > SECTION_MAX_CHARS:
            return "invalid_blocks"
        if block.get("type") == "actions" and len(block.get("elements") or ()) > ELEMENTS_MAX:
            return "invalid_blocks"
    return None


def _view_problem(view: dict[str, Any]) -> str:
    """What Slack refuses in a modal (views.open): a title, submit or close text over 24
    characters, more than 100 blocks, private_metadata over 3,000 characters, a plain-text
    input's max_length over 3,000, an input label over 2,000."""
    for key in ("title", "submit", "close"):
        text = str((view.get(key) or {}).get("text", ""))
        if len(text) > 24:
            return f"[ERROR] must be less than 25 characters [json-pointer:/view/{key}/text]"
    blocks = view.get("blocks") or []
    if len(blocks) > 100:
        return "[ERROR] no more than 100 items allowed [json-pointer:/view/blocks]"
    if len(str(view.get("private_metadata", ""))) > 3000:
        return "[ERROR] must be less than 3001 characters [json-pointer:/view/private_metadata]"
    for n, block in enumerate(blocks):
        element = block.get("element") or {}
        if element.get("type") == "plain_text_input" and int(element.get("max_length", 0)) > 3000:
            return (
                f"[ERROR] must be at most 3000 [json-pointer:/view/blocks/{n}/element/max_length]"
            )
        if len(str((block.get("label") or {}).get("text", ""))) > 2000:
            return (
                f"[ERROR] must be less than 2001 characters [json-pointer:/view/blocks/{n}/label]"
            )
    return ""
