"""One browser's conversation with the web process, whatever carries the frames (a WebSocket,
or an event stream + POSTs): the ``hello`` that opens or resumes a session, and the visitor's
messages and clicks — each stored in the session log and in the inbox before the browser is
told ``ack``. The browser's own message id is the event id, so a resend after a reconnect is
stored once and handled once."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.adapters.web_frames import (
    ClientFrame,
    FrameError,
    Hello,
    VisitorAction,
    VisitorMessage,
    visitor_entry,
)
from bot.adapters.web_hub import SessionHub
from bot.adapters.web_tokens import (
    BadToken,
    Identity,
    SessionSigner,
    WebSession,
    identity_is_genuine,
)
from bot.clock import Clock
from bot.messages import (
    ChannelRef,
    Inbound,
    InboundHandler,
    InboundKind,
    SessionLog,
    split_payload,
)

logger = logging.getLogger(__name__)

PLATFORM = "web"
BUCKETS_KEPT = 10_000  # sessions whose rate limit is remembered before refilled ones go


@dataclass
class RateLimit:
    """A token bucket per session: ``burst`` messages at once, one more every ``refill``."""

    burst: int = 8
    refill: timedelta = timedelta(seconds=2)
    _buckets: dict[str, tuple[float, datetime]] = field(default_factory=dict)

    def take(self, session: str, now: datetime) -> float:
        """0 when the session may send now, else the seconds until it may."""
        if len(self._buckets) > BUCKETS_KEPT:
            self._forget_full(now)
        tokens, since = self._buckets.get(session, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - since) / self.refill)
        if tokens < 1:
            self._buckets[session] = (tokens, now)
            return (1 - tokens) * self.refill.total_seconds()
        self._buckets[session] = (tokens - 1, now)
        return 0.0

    def _forget_full(self, now: datetime) -> None:
        """Drop the buckets that have refilled: a new one starts full anyway."""
        full = now - self.refill * self.burst
        self._buckets = {s: b for s, b in self._buckets.items() if b[1] > full}


@dataclass(frozen=True)
class VisitRules:
    """What every visit of one web channel shares."""

    signer: SessionSigner
    identity_secret: str
    hub: SessionHub
    limit: RateLimit
    clock: Clock


class SessionRefused(Exception):
    """The browser's token is forged, malformed or expired: it must start a new session."""


class Visit:
    def __init__(self, rules: VisitRules, log: SessionLog, on_inbound: InboundHandler) -> None:
        self._rules = rules
        self._log = log
        self._on_inbound = on_inbound
        self.session: WebSession | None = None
        self.last_seq = 0
        self._name = ""  # a vouched visitor's name, as the site gave it

    async def handle(self, frame: ClientFrame) -> list[dict[str, Any]]:
        """The frames to answer ``frame`` with; raises ``FrameError`` or ``SessionRefused``."""
        if isinstance(frame, Hello):
            return self._hello(frame)
        if self.session is None:
            raise FrameError("hello_first", "Say hello (with your token) first.", frame.client_id)
        wait = self._rules.limit.take(self.session.session_id, self._rules.clock.now())
        if wait:
            raise FrameError(
                "rate_limited", f"Too many messages; try again in {wait:.0f} s.", frame.client_id
            )
        if isinstance(frame, VisitorMessage):
            return await self._message(self.session, frame)
        return await self._action(self.session, frame)

    def _hello(self, hello: Hello) -> list[dict[str, Any]]:
        rules, now = self._rules, self._rules.clock.now()
        session: WebSession | None = None
        if hello.token:
            try:
                session = rules.signer.verify(hello.token, now)
            except BadToken as refused:
                logger.info("web chat: session token refused (%s)", refused)
                raise SessionRefused(str(refused)) from None
        user_id = self._vouched_user(hello.identity)
        if session is None or (user_id and session.user_id != user_id):
            session = rules.signer.new_session(now, user_id)
            self.last_seq = 0
        else:
            session = rules.signer.renewed(session, now)
            self.last_seq = hello.last_seq
        self.session = session
        return [
            {
                "type": "welcome",
                "token": rules.signer.token(session),
                "expires": session.expires.isoformat(),
                "identified": session.identified,
            }
        ]

    def _vouched_user(self, given: dict[str, str]) -> str:
        if not given.get("user_id"):
            return ""
        identity = Identity(
            user_id=given["user_id"][:128],
            email=given.get("email", ""),
            name=given.get("name", ""),
            signature=given.get("signature", ""),
        )
        if identity_is_genuine(self._rules.identity_secret, identity):
            self._name = identity.name[:200]
            return identity.user_id
        logger.warning("web chat: a visitor identity with a wrong signature was ignored")
        return ""

    async def _message(self, session: WebSession, message: VisitorMessage) -> list[dict[str, Any]]:
        # into the log first: the desk's answer must not be shown before the question
        seq = await self._log.append(
            session.session_id, visitor_entry(message), client_id=message.client_id
        )
        self._rules.hub.wake(session.session_id)
        kind, text = InboundKind.MESSAGE, message.text
        if text.startswith("/") and len(text) > 1:  # "/status", as on every platform
            kind, text = InboundKind.COMMAND, text[1:].strip()
        await self._on_inbound(self._inbound(session, message.client_id, kind, text=text))
        return [{"type": "ack", "id": message.client_id, "seq": seq}, {"type": "typing"}]

    async def _action(self, session: WebSession, action: VisitorAction) -> list[dict[str, Any]]:
        verb, case, arg = split_payload(action.payload)
        await self._on_inbound(
            self._inbound(
                session, action.client_id, InboundKind.ACTION, action=verb, value=f"{case}:{arg}"
            )
        )
        return [{"type": "ack", "id": action.client_id}, {"type": "typing"}]

    def _inbound(
        self, session: WebSession, client_id: str, kind: InboundKind, **fields: str
    ) -> Inbound:
        return Inbound(
            kind=kind,
            event_id=f"{session.session_id}:{client_id}",
            channel=ChannelRef(PLATFORM, session.session_id),
            user_id=session.user_id or session.session_id,
            user_name=self._name if session.user_id else "",
            is_direct=True,
            received_at=self._rules.clock.now(),
            **fields,  # type: ignore[arg-type]
        )
