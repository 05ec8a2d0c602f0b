"""The web chat adapter: customers on the company's website, through the widget
(``/static/widget/widget.js``) talking to the ``web`` process.

Routes (see ``docs/web-protocol.md``): ``/widget/ws`` — the WebSocket; ``/widget/events`` +
``/widget/messages`` — the same frames over Server-Sent Events and POST, for networks that
block WebSockets; ``/static/widget/…`` — the widget's script and style; ``/demo`` — a sample
shop page with the widget on it.

Inbound: a visitor's message is written to the session log and the inbox before the browser
gets its ``ack`` (``web_visit``). Outbound: ``send`` appends the message to the session's log
(the database, injected as ``SessionLog``) and wakes this process's browsers of that session;
browsers connected to another web process are woken by its poll of the log (``web_hub``).
Channel references are ``web:<session id>``; a session is a signed token the browser keeps
(``web_tokens``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from bot.adapters.web_assets import WidgetAssets
from bot.adapters.web_frames import (
    MAX_FRAME_BYTES,
    FrameError,
    Hello,
    desk_entry,
    dumps,
    entry_frame,
    parse_frame,
)
from bot.adapters.web_hub import Follower, SessionHub
from bot.adapters.web_tokens import BadToken, SessionSigner
from bot.adapters.web_visit import PLATFORM, RateLimit, SessionRefused, Visit, VisitRules
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.errors import RetryableSendError
from bot.messages import (
    Capabilities,
    InboundHandler,
    LoggedMessage,
    Outbound,
    OutboundKind,
    SentRef,
    SessionLog,
)

logger = logging.getLogger(__name__)

SESSION_LIFETIME = timedelta(days=30)
REFUSED_TOKEN = 4401  # WebSocket close codes in the application range (4000-4999)
SERVER_LEAVING = 1012  # "service restart": the widget reconnects
KEEPALIVE_SECONDS = 15.0


class WebChannel:
    platform = PLATFORM
    capabilities = Capabilities(threads=False, edits=True, buttons=True, forms=False, files=False)

    def __init__(
        self,
        *,
        secret: str,
        identity_secret: str = "",
        origins: tuple[str, ...] = (),
        clock: Clock | None = None,
        poll_seconds: float = 0.5,
        limit: RateLimit | None = None,
    ) -> None:
        self._clock = clock or SystemClock()
        self._hub = SessionHub(poll_seconds=poll_seconds)
        self._rules = VisitRules(
            signer=SessionSigner(secret, lifetime=SESSION_LIFETIME),
            identity_secret=identity_secret,
            hub=self._hub,
            limit=limit or RateLimit(),
            clock=self._clock,
        )
        self._origins = frozenset(o.rstrip("/") for o in origins)
        self._assets = WidgetAssets()
        self._log: SessionLog | None = None
        self._on_inbound: InboundHandler | None = None
        self._sockets: set[WebSocket] = set()

    # --- wiring and lifecycle ---------------------------------------------------------------

    def use_session_log(self, log: SessionLog) -> None:
        self._log = log

    async def start(self, on_inbound: InboundHandler) -> None:
        self._on_inbound = on_inbound
        self._hub.start(self._session_log)

    async def stop(self) -> None:
        """Close the browsers' sockets (they reconnect, to this process or another)."""
        self._on_inbound = None
        for socket in list(self._sockets):
            with contextlib.suppress(Exception):
                await socket.close(code=SERVER_LEAVING)
        await self._hub.stop()

    async def drop_connections(self) -> None:
        """Close every WebSocket of this process as a restart would; the widgets reconnect and
        resume from the last message they saw."""
        for socket in list(self._sockets):
            with contextlib.suppress(Exception):
                await socket.close(code=SERVER_LEAVING)

    @property
    def _session_log(self) -> SessionLog:
        if self._log is None:
            raise RuntimeError("the web chat has no session log (the composition root gives it)")
        return self._log

    # --- outbound ---------------------------------------------------------------------------

    async def send(self, outbound: Outbound) -> SentRef:
        session = outbound.channel.channel
        if outbound.kind == OutboundKind.OPEN_THREAD or (
            outbound.kind == OutboundKind.CLOSE_THREAD and not outbound.text
        ):
            return SentRef(PLATFORM, session, "0")  # no threads on the web: nothing to show
        try:
            seq = await self._session_log.append(session, desk_entry(outbound))
        except RuntimeError:
            raise
        except Exception as error:  # the database: the outbox tries again
            raise RetryableSendError(f"web chat log unavailable: {error}") from error
        self._hub.wake(session)
        if outbound.kind == OutboundKind.EDIT and outbound.edit_of is not None:
            return outbound.edit_of
        return SentRef(PLATFORM, session, str(seq))

    # --- routes -----------------------------------------------------------------------------

    def http_routes(self) -> list[BaseRoute]:
        return [
            WebSocketRoute("/widget/ws", self._websocket),
            Route("/widget/events", self._event_stream, methods=["GET"]),
            Route("/widget/messages", self._post, methods=["POST"]),
            *self._assets.routes(),
        ]

    def _origin_allowed(self, connection: HTTPConnection) -> bool:
        """Browsers always send ``Origin`` on WebSockets and cross-site requests: the page's
        own origin (``/demo``) and the configured sites may open the chat."""
        origin = connection.headers.get("origin")
        if origin is None:
            return True  # not a browser (a server-side client cannot be kept out by Origin)
        scheme = {"ws": "http", "wss": "https"}.get(connection.url.scheme, connection.url.scheme)
        own = f"{scheme}://{connection.url.netloc}"
        return origin.rstrip("/") in self._origins or origin == own

    def _visit(self) -> Visit | None:
        if self._on_inbound is None or self._log is None:
            return None
        return Visit(self._rules, self._log, self._on_inbound)

    async def _websocket(self, socket: WebSocket) -> None:
        visit = self._visit()
        if not self._origin_allowed(socket) or visit is None:
            logger.info(
                "web chat: refused a WebSocket from origin %s", socket.headers.get("origin")
            )
            await socket.close(code=1008)  # before accept: the browser gets HTTP 403
            return
        await socket.accept()
        self._sockets.add(socket)
        sending = asyncio.Lock()
        follower: Follower | None = None
        pump: asyncio.Task[None] | None = None

        async def push(frame: dict[str, Any]) -> None:
            async with sending:
                await socket.send_text(dumps(frame))

        async def deliver(entry: LoggedMessage) -> None:
            await push(entry_frame(entry))

        try:
            while True:
                message = await socket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                text = message.get("text")
                frames = await self._answer(
                    visit, text if text is not None else message.get("bytes")
                )
                if frames is None:
                    await push(_refused())
                    await socket.close(code=REFUSED_TOKEN)
                    break
                for frame in frames:
                    await push(frame)
                if frames and frames[0]["type"] == "welcome":
                    assert visit.session is not None
                    if follower is not None and pump is not None:
                        self._hub.leave(follower)
                        pump.cancel()
                    follower = Follower(visit.session.session_id, visit.last_seq, deliver)
                    self._hub.follow(follower)
                    pump = asyncio.create_task(follower.pump(self._session_log))
        except (WebSocketDisconnect, RuntimeError):
            pass  # the browser left, or the socket closed under us (stop)
        finally:
            self._sockets.discard(socket)
            if follower is not None:
                self._hub.leave(follower)
            if pump is not None:
                pump.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await pump

    async def _answer(self, visit: Visit, raw: str | bytes | None) -> list[dict[str, Any]] | None:
        """The frames answering one raw frame; None when the session token was refused."""
        client_id = ""
        try:
            frame = parse_frame(raw)
            client_id = "" if isinstance(frame, Hello) else frame.client_id
            return await visit.handle(frame)
        except FrameError as error:
            return [error.as_frame()]
        except SessionRefused:
            return None
        except Exception:  # the database: the widget keeps the message and tries again
            logger.exception("web chat: could not take a visitor's frame")
            return [FrameError("unavailable", _UNAVAILABLE, client_id).as_frame()]

    async def _post(self, request: Request) -> Response:
        """The fallback's uplink: one frame per POST, the session token in the body."""
        visit = self._visit()
        if not self._origin_allowed(request) or visit is None:
            return JSONResponse({"error": "origin not allowed"}, status_code=403)
        raw = await request.body()
        if len(raw) > 2 * MAX_FRAME_BYTES:
            return JSONResponse({"frames": [_too_large()]}, status_code=413)
        try:
            data = json.loads(raw)
        except ValueError:
            return JSONResponse({"frames": [_malformed()]}, status_code=400)
        token = data.get("token") if isinstance(data, dict) else None
        if isinstance(token, str) and token and data.get("type") != "hello":
            try:
                visit.session = self._rules.signer.verify(token, self._clock.now())
            except BadToken:
                return JSONResponse({"frames": [_refused()]}, status_code=401)
        text = raw.decode(errors="replace")
        frames = await self._answer(visit, text)
        if frames is None:
            return JSONResponse({"frames": [_refused()]}, status_code=401)
        status = 200
        if frames and frames[0]["type"] == "error":
            status = {"rate_limited": 429, "unavailable": 503, "hello_first": 401}.get(
                frames[0]["code"], 400
            )
        return JSONResponse({"frames": frames}, status_code=status)

    async def _event_stream(self, request: Request) -> Response:
        """The fallback's downlink: the session's entries as Server-Sent Events, each with its
        ``seq`` as the event id (``EventSource`` resumes with ``Last-Event-ID`` by itself)."""
        if not self._origin_allowed(request) or self._log is None:
            return JSONResponse({"error": "origin not allowed"}, status_code=403)
        try:
            session = self._rules.signer.verify(
                request.query_params.get("token", ""), self._clock.now()
            )
        except BadToken:
            return JSONResponse({"frames": [_refused()]}, status_code=401)
        after = request.headers.get("last-event-id") or request.query_params.get("after", "0")
        queue: asyncio.Queue[LoggedMessage] = asyncio.Queue()
        follower = Follower(session.session_id, int(after) if after.isdigit() else 0, queue.put)
        return StreamingResponse(
            self._events(follower, queue),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    async def _events(
        self, follower: Follower, queue: asyncio.Queue[LoggedMessage]
    ) -> AsyncIterator[str]:
        self._hub.follow(follower)
        pump = asyncio.create_task(follower.pump(self._session_log))
        try:
            yield "retry: 1000\n\n"
            while True:
                try:
                    entry = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield ": keepalive\n\n"
                    continue
                yield f"id: {entry.seq}\ndata: {dumps(entry_frame(entry))}\n\n"
        finally:
            self._hub.leave(follower)
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pump


_UNAVAILABLE = "The chat is briefly unavailable; your message is kept and sent again."


def _refused() -> dict[str, Any]:
    return FrameError("bad_token", "This chat session is not valid any more.").as_frame()


def _too_large() -> dict[str, Any]:
    return FrameError("too_large", "The request is too large.").as_frame()


def _malformed() -> dict[str, Any]:
    return FrameError("malformed", "A frame must be a JSON object.").as_frame()


def build(settings: Settings, listen: bool) -> WebChannel | None:
    """The adapter, or None when ``HELPDESK_WEB_SECRET`` is not set. Built in every process
    (``listen`` or not): a worker's outbox sender delivers to web sessions too."""
    secret = settings.web_secret.get_secret_value() if settings.web_secret else ""
    if not secret:
        return None
    identity = settings.web_identity_secret
    return WebChannel(
        secret=secret,
        identity_secret=identity.get_secret_value() if identity else "",
        origins=settings.web_origin_list,
    )
