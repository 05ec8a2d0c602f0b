"""The dashboard's routes on the web process (``/dashboard…``, ``/static/dashboard/…``).

Nothing but the sign-in pages and the two static files answers without a session: the page
redirects to the sign-in, ``data.json`` and the event stream answer 401. Each request checks
the session (signed, not expired) and the person's role in helpdesk.yml as it is now; the event
stream checks both again before every push and heartbeat, and ends when either fails.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import logging
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import BaseRoute, Route

from bot.bootstrap import HelpDesk
from bot.clock import Clock
from bot.config import DeskConfig
from bot.dashboard import pages
from bot.dashboard.access import DashboardAccess
from bot.dashboard.attempts import AttemptLimit
from bot.dashboard.figures import GapsPanel, snapshot
from bot.dashboard.live import LiveFigures
from bot.dashboard.passwords import hash_password, verify_password
from bot.dashboard.sessions import (
    PRE_SESSION_COOKIE,
    SESSION_COOKIE,
    Session,
    Signer,
    new_pre_session,
)
from bot.reports.gaps import Encoder
from bot.storage.sign_ins import redeem_sign_in
from bot.storage.uow import UnitOfWork

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
STATIC_FILES = {"dashboard.css": "text/css", "dashboard.js": "text/javascript"}
HEARTBEAT_SECONDS = 15.0
MAX_FORM_BYTES = 4096
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # a sign-in link's token never leaves in a Referer
    "X-Frame-Options": "DENY",
}
PRIVATE = {**SECURITY_HEADERS, "Cache-Control": "no-store"}


@dataclass(frozen=True)
class _Static:
    body: bytes
    media_type: str
    etag: str


def _load_static() -> dict[str, _Static]:
    files = {}
    for name, media_type in STATIC_FILES.items():
        body = (STATIC_DIR / name).read_bytes()
        files[name] = _Static(body, media_type, hashlib.sha256(body).hexdigest()[:16])
    return files


async def _form_fields(request: Request) -> dict[str, str]:
    """A small urlencoded form (the dashboard's forms have three fields at most); anything
    larger or of another type reads as empty, and fails the CSRF check."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    if content_type != "application/x-www-form-urlencoded":
        return {}
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return {}
    try:
        return dict(parse_qsl(body.decode("utf-8", errors="replace"), max_num_fields=10))
    except ValueError:  # too many fields
        return {}


def dashboard_routes(
    *,
    sessions: async_sessionmaker[AsyncSession],
    desk: DeskConfig,
    clock: Clock,
    secret: str,
    config_file: Path | None = None,
    poll_seconds: float = 1.0,
    gaps_encoder: Encoder | None = None,
) -> list[BaseRoute]:
    """``gaps_encoder``: the bot's encoder, which the knowledge gaps are grouped by; without
    one the gaps panel is left out."""
    signer = Signer(secret)
    access = DashboardAccess(desk.roles, config_file)
    attempts = AttemptLimit()
    static = _load_static()
    assets = {name: f"/static/dashboard/{name}?v={f.etag}" for name, f in static.items()}
    lifetime = timedelta(hours=desk.dashboard.session_hours)
    gaps = GapsPanel(gaps_encoder) if gaps_encoder is not None else None
    unknown_account = functools.cache(lambda: hash_password(secrets.token_urlsafe(16)))

    async def build() -> dict[str, object]:
        async with UnitOfWork(sessions, clock) as uow:
            return await snapshot(uow, desk, clock.now(), gaps=gaps)

    live = LiveFigures(sessions=sessions, build=build, poll_seconds=poll_seconds)

    def signed_in(request: Request) -> Session | None:
        session = signer.read_session(request.cookies.get(SESSION_COOKIE), clock.now())
        if session is None or not access.may_view(session.person):
            return None
        return session

    def secure(request: Request) -> bool:
        return request.url.scheme == "https" or (desk.dashboard.url or "").startswith("https:")

    def start_session(request: Request, person: str) -> Response:
        cookie, _ = signer.new_session(person, clock.now(), lifetime)
        response = RedirectResponse("/dashboard", status_code=303, headers=PRIVATE)
        response.set_cookie(
            SESSION_COOKIE,
            cookie,
            max_age=int(lifetime.total_seconds()),
            path="/dashboard",
            httponly=True,
            samesite="strict",
            secure=secure(request),
        )
        response.delete_cookie(PRE_SESSION_COOKIE, path="/dashboard")
        return response

    def with_pre_session(
        request: Request, render: Callable[[str], str], status: int = 200
    ) -> Response:
        """A sign-in form, its CSRF token bound to the pre-session cookie (set if missing)."""
        pre = request.cookies.get(PRE_SESSION_COOKIE) or new_pre_session()
        response = HTMLResponse(render(signer.csrf_token("sign-in", pre)), status, PRIVATE)
        response.set_cookie(
            PRE_SESSION_COOKIE,
            pre,
            max_age=3600,
            path="/dashboard",
            httponly=True,
            samesite="strict",
            secure=secure(request),
        )
        return response

    def sign_in_form(
        request: Request, message: str = "", account: str = "", status: int = 200
    ) -> Response:
        passwords = bool(desk.dashboard.passwords)
        return with_pre_session(
            request,
            lambda csrf: pages.sign_in_page(
                assets, csrf=csrf, passwords=passwords, message=message, account=account
            ),
            status,
        )

    async def form_with_csrf(request: Request) -> dict[str, str] | None:
        fields = await _form_fields(request)
        pre = request.cookies.get(PRE_SESSION_COOKIE)
        if not signer.check_csrf("sign-in", pre, fields.get("csrf")):
            return None
        return fields

    def client_key(request: Request) -> str:
        return f"address:{request.client.host if request.client else '?'}"

    async def dashboard(request: Request) -> Response:
        session = signed_in(request)
        if session is None:
            return RedirectResponse("/dashboard/login", status_code=303, headers=PRIVATE)
        html = pages.dashboard_page(
            assets,
            person=session.person,
            logout_csrf=signer.csrf_token("sign-out", session.session_id),
        )
        return HTMLResponse(html, headers=PRIVATE)

    async def login_page(request: Request) -> Response:
        if signed_in(request) is not None:
            return RedirectResponse("/dashboard", status_code=303, headers=PRIVATE)
        return sign_in_form(request)

    async def login(request: Request) -> Response:
        fields = await form_with_csrf(request)
        if fields is None:
            return sign_in_form(request, "That form had expired; please try again.", status=403)
        account = fields.get("account", "").strip()[:200]
        keys = [client_key(request), f"account:{account}"]
        now = clock.now()
        if attempts.blocked(keys, now):
            logger.warning("dashboard: sign-in attempts limited for %s", account or "?")
            return sign_in_form(
                request, "Too many attempts; please wait a few minutes.", account, status=429
            )
        stored = desk.dashboard.passwords.get(account)
        # an unknown account costs the same hash as a known one: the time taken tells nothing
        checked = await asyncio.to_thread(
            verify_password, fields.get("password", ""), stored or unknown_account()
        )
        matches = stored is not None and checked
        if not matches or not access.may_view(account):
            attempts.failed(keys, now)
            logger.warning("dashboard: sign-in refused for %s", account or "?")
            return sign_in_form(
                request, "That account and password do not match.", account, status=401
            )
        logger.info("dashboard: %s signed in with a password", account)
        return start_session(request, account)

    async def link_page(request: Request) -> Response:
        token = request.path_params["token"]
        return with_pre_session(
            request, lambda csrf: pages.confirm_link_page(assets, token=token, csrf=csrf)
        )

    async def link(request: Request) -> Response:
        fields = await form_with_csrf(request)
        if fields is None:
            return sign_in_form(request, "That form had expired; please try again.", status=403)
        now = clock.now()
        if attempts.blocked([client_key(request)], now):
            return sign_in_form(
                request, "Too many attempts; please wait a few minutes.", status=429
            )
        async with UnitOfWork(sessions, clock) as uow:
            person = await redeem_sign_in(uow.session, request.path_params["token"], now=now)
            await uow.commit()
        if person is None or not access.may_view(person):
            attempts.failed([client_key(request)], now)
            logger.warning("dashboard: a used, expired or unknown sign-in link was tried")
            return sign_in_form(
                request,
                "That sign-in link has expired or was used already. Type dashboard in the "
                "agents' channel for a new one.",
                status=401,
            )
        logger.info("dashboard: %s signed in with a link", person)
        return start_session(request, person)

    async def logout(request: Request) -> Response:
        session = signer.read_session(request.cookies.get(SESSION_COOKIE), clock.now())
        token = (await _form_fields(request)).get("csrf")
        if session is None or not signer.check_csrf("sign-out", session.session_id, token):
            return Response("Not signed in, or the form had expired.", 403, headers=PRIVATE)
        response = RedirectResponse("/dashboard/login", status_code=303, headers=PRIVATE)
        response.delete_cookie(SESSION_COOKIE, path="/dashboard")
        return response

    def unauthorised() -> Response:
        return JSONResponse({"error": "sign in first"}, 401, headers=PRIVATE)

    async def data(request: Request) -> Response:
        if signed_in(request) is None:
            return unauthorised()
        current = await live.current()
        return Response(current.body, media_type="application/json", headers=PRIVATE)

    async def events(request: Request) -> Response:
        if signed_in(request) is None:
            return unauthorised()

        async def stream() -> AsyncIterator[str]:
            yield "retry: 3000\n\n"
            async for latest in live.watch(heartbeat=HEARTBEAT_SECONDS):
                if signed_in(request) is None:
                    yield "event: signed-out\ndata: {}\n\n"
                    return
                if latest is None:
                    yield ": still here\n\n"  # keeps proxies from closing an idle stream
                    continue
                # the server's time beside the figures: the page counts SLA clocks from it, not
                # from the device's own clock, which may be off
                now = json.dumps(clock.now().isoformat())
                message = f'{{"now":{now},"figures":{latest.body}}}'
                yield f"id: {latest.serial}\nevent: snapshot\ndata: {message}\n\n"

        # X-Accel-Buffering: nginx would otherwise hold the events back
        headers = {**PRIVATE, "X-Accel-Buffering": "no"}
        return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)

    async def static_file(request: Request) -> Response:
        found = static.get(request.path_params["name"])
        if found is None:
            return Response("Not found", 404)
        versioned = request.query_params.get("v") == found.etag
        headers = {
            "ETag": f'"{found.etag}"',
            "Cache-Control": "public, max-age=31536000, immutable"
            if versioned
            else "public, max-age=300",
            "X-Content-Type-Options": "nosniff",
        }
        if request.headers.get("if-none-match") == headers["ETag"]:
            return Response(status_code=304, headers=headers)
        return Response(found.body, media_type=found.media_type, headers=headers)

    return [
        Route("/dashboard", dashboard, methods=["GET"]),
        Route("/dashboard/login", login_page, methods=["GET"]),
        Route("/dashboard/login", login, methods=["POST"]),
        Route("/dashboard/sign-in/{token}", link_page, methods=["GET"]),
        Route("/dashboard/sign-in/{token}", link, methods=["POST"]),
        Route("/dashboard/logout", logout, methods=["POST"]),
        Route("/dashboard/data.json", data, methods=["GET"]),
        Route("/dashboard/events", events, methods=["GET"]),
        Route("/static/dashboard/{name}", static_file, methods=["GET"]),
    ]


def routes_for(helpdesk: HelpDesk) -> list[BaseRoute]:
    """The dashboard on the web process, when ``HELPDESK_DASHBOARD_SECRET`` is set."""
    secret = helpdesk.settings.dashboard_secret
    if secret is None or not secret.get_secret_value():
        logger.info("dashboard: off (HELPDESK_DASHBOARD_SECRET is not set)")
        return []
    return dashboard_routes(
        sessions=helpdesk.sessions,
        desk=helpdesk.desk,
        clock=helpdesk.clock,
        secret=secret.get_secret_value(),
        config_file=helpdesk.settings.desk_config_file,
        gaps_encoder=helpdesk.encoder,
    )
