"""Signed dashboard sessions and CSRF tokens.

A session is a cookie holding who signed in, when it expires and a random session id, signed
with HMAC-SHA256 under ``HELPDESK_DASHBOARD_SECRET``: any web process can check it without a
database read, and nobody can forge or stretch one without the secret. The cookie is HttpOnly
(scripts never see it), SameSite=Strict, and Secure when the dashboard is served over https.

CSRF: every form carries a token bound to something the attacker's page cannot read — the
session id once signed in, a random pre-session cookie on the sign-in pages — and signed under
a purpose, so a token for one form is no good for another.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

SESSION_COOKIE = "helpdesk_dashboard"
PRE_SESSION_COOKIE = "helpdesk_dashboard_pre"


@dataclass(frozen=True)
class Session:
    person: str  # "platform:user-id"
    expires_at: datetime
    session_id: str

    @property
    def platform(self) -> str:
        return self.person.partition(":")[0]

    @property
    def user_id(self) -> str:
        return self.person.partition(":")[2]


class Signer:
    def __init__(self, secret: str) -> None:
        if len(secret) < 16:
            raise ValueError("HELPDESK_DASHBOARD_SECRET must be at least 16 characters")
        self._key = hashlib.sha256(b"helpdesk-dashboard:" + secret.encode("utf-8")).digest()

    def _mac(self, purpose: str, data: bytes) -> str:
        digest = hmac.new(self._key, purpose.encode() + b"\0" + data, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")

    # --- sessions ---

    def new_session(self, person: str, now: datetime, lifetime: timedelta) -> tuple[str, Session]:
        session = Session(person, now + lifetime, secrets.token_urlsafe(16))
        payload = json.dumps(
            {
                "p": session.person,
                "e": int(session.expires_at.timestamp()),
                "s": session.session_id,
            },
            separators=(",", ":"),
        ).encode("utf-8")
        body = base64.urlsafe_b64encode(payload).decode("ascii").rstrip("=")
        return f"{body}.{self._mac('session', body.encode())}", session

    def read_session(self, cookie: str | None, now: datetime) -> Session | None:
        """The session a cookie holds, if it is ours, intact and not expired."""
        if not cookie or len(cookie) > 2000 or "." not in cookie:
            return None
        body, _, mac = cookie.rpartition(".")
        if not hmac.compare_digest(mac, self._mac("session", body.encode())):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            expires = datetime.fromtimestamp(int(data["e"]), tz=now.tzinfo)
            session = Session(str(data["p"]), expires, str(data["s"]))
        except (ValueError, KeyError, TypeError):
            return None
        return session if now < session.expires_at else None

    # --- CSRF ---

    def csrf_token(self, purpose: str, bound_to: str) -> str:
        return self._mac(f"csrf:{purpose}", bound_to.encode("utf-8"))

    def check_csrf(self, purpose: str, bound_to: str | None, token: str | None) -> bool:
        if not bound_to or not token:
            return False
        return hmac.compare_digest(token, self.csrf_token(purpose, bound_to))


def new_pre_session() -> str:
    """A random value for the pre-session cookie the sign-in forms' CSRF tokens are bound to."""
    return secrets.token_urlsafe(16)
