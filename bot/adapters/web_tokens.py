"""Signed web chat session tokens and the site's signed visitor identities.

A session token is ``v1.<payload>.<signature>``: the payload (base64url JSON) names the session,
its expiry and, for a visitor the site vouched for, their user id; the signature is
HMAC-SHA256 over the payload with the server secret (``HELPDESK_WEB_SECRET``). The browser keeps
the token (localStorage) and shows it again after a reload; nothing about the session lives in
a process's memory.

A site that knows who its visitor is signs ``user_id + "\\n" + email`` with its own secret
(``HELPDESK_WEB_IDENTITY_SECRET``) and passes both and the hex signature to the widget; such a
visitor's session id is derived from the user id, so the same customer finds the same
conversation on any device.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

TOKEN_VERSION = "v1"


class BadToken(ValueError):
    """A token that is forged, malformed or expired (the message says which, for logs)."""


@dataclass(frozen=True)
class WebSession:
    session_id: str
    expires: datetime
    user_id: str = ""  # the site's own id of a visitor it vouched for

    @property
    def identified(self) -> bool:
        return bool(self.user_id)


@dataclass(frozen=True)
class Identity:
    """A visitor as the site names them, with the site's signature."""

    user_id: str
    email: str
    name: str
    signature: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionSigner:
    def __init__(self, secret: str, *, lifetime: timedelta) -> None:
        if not secret:
            raise ValueError("the web chat needs a server secret (HELPDESK_WEB_SECRET)")
        self._key = secret.encode()
        self._lifetime = lifetime

    def new_session(self, now: datetime, user_id: str = "") -> WebSession:
        if user_id:  # one conversation per known customer, whatever the browser
            digest = hmac.new(self._key, b"user\n" + user_id.encode(), hashlib.sha256).digest()
            session_id = "u" + _b64(digest)[:22]
        else:
            session_id = "a" + secrets.token_urlsafe(16)
        return WebSession(session_id, now + self._lifetime, user_id)

    def renewed(self, session: WebSession, now: datetime) -> WebSession:
        return WebSession(session.session_id, now + self._lifetime, session.user_id)

    def token(self, session: WebSession) -> str:
        claims = {"s": session.session_id, "e": int(session.expires.timestamp())}
        if session.user_id:
            claims["u"] = session.user_id
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        return f"{TOKEN_VERSION}.{payload}.{self._sign(payload)}"

    def verify(self, token: str, now: datetime) -> WebSession:
        version, _, rest = token.partition(".")
        payload, _, signature = rest.partition(".")
        if version != TOKEN_VERSION or not payload or not signature:
            raise BadToken("malformed token")
        if not hmac.compare_digest(signature, self._sign(payload)):
            raise BadToken("bad signature")
        try:
            claims = json.loads(_unb64(payload))
            session = WebSession(
                session_id=str(claims["s"]),
                expires=datetime.fromtimestamp(int(claims["e"]), tz=now.tzinfo),
                user_id=str(claims.get("u", "")),
            )
        except (ValueError, KeyError, TypeError) as error:
            raise BadToken("malformed claims") from error
        if session.expires <= now:
            raise BadToken("expired")
        return session

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())


def identity_signature(secret: str, user_id: str, email: str) -> str:
    """What the site computes for a logged-in visitor (hex HMAC-SHA256)."""
    message = f"{user_id}\n{email}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def identity_is_genuine(secret: str, identity: Identity) -> bool:
    if not secret or not identity.user_id:
        return False
    expected = identity_signature(secret, identity.user_id, identity.email)
    return hmac.compare_digest(expected, identity.signature.lower())
