"""The dashboard's door, over HTTP against the web app on a real socket, on SQLite and
PostgreSQL: nothing is visible without a session (every route, the event stream included);
the password sign-in checks its CSRF token and limits attempts; the sign-in link sent in chat
works once and expires; a session ends at its expiry and when its holder stops being a
manager; and only managers and admins get a link — anyone else is refused privately and the
refusal logged."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from bot.clock import FrozenClock
from bot.config import load_desk_config
from bot.dashboard.app import routes_for
from bot.dashboard.passwords import hash_password
from bot.dialogs import replies
from bot.messages import InboundKind
from bot.storage.models import DashboardSignIn
from tests.support.dashboard import (
    PASSWORD,
    Served,
    desk_yaml,
    link_token,
    serve_dashboard,
)
from tests.support.desk import Transcript, as_sent, build_transcript

PRIVATE_ROUTES = ["/dashboard", "/dashboard/data.json", "/dashboard/events"]
PASSWORD_HASH = hash_password(PASSWORD)  # scrypt is slow on purpose: once per module


@dataclass
class Desk:
    t: Transcript
    served: Served
    config: Path
    clock: FrozenClock


@pytest.fixture
async def desk(migrated_url: str, clock: FrozenClock, tmp_path: Path) -> AsyncIterator[Desk]:
    config = tmp_path / "helpdesk.yml"
    config.write_text(desk_yaml(passwords={"fake:mia": PASSWORD_HASH}), encoding="utf-8")
    t = await build_transcript(migrated_url, clock, tmp_path, desk=load_desk_config(config))
    async with serve_dashboard(t, clock, config) as served:
        yield Desk(t, served, config, clock)
    await t.helpdesk.close()


def client(desk: Desk) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=desk.served.url, timeout=10, follow_redirects=False)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


async def sign_in_with_password(web: httpx.AsyncClient, password: str = PASSWORD) -> httpx.Response:
    form = await web.get("/dashboard/login")
    return await web.post(
        "/dashboard/login",
        data={"csrf": csrf_of(form.text), "account": "fake:mia", "password": password},
    )


async def test_nothing_is_visible_without_a_session(desk: Desk) -> None:
    await desk.t.say("I forgot my password")
    await desk.t.click("Talk to a person")  # a case exists: there would be something to see
    async with client(desk) as web:
        page = await web.get("/dashboard")
        assert page.status_code == 303 and page.headers["location"] == "/dashboard/login"
        for route in ("/dashboard/data.json", "/dashboard/events"):
            refused = await web.get(route)
            assert refused.status_code == 401, route
            assert "password" not in refused.text.lower() and "#1" not in refused.text
            assert refused.headers["cache-control"] == "no-store"
        # a forged or tampered cookie is no session either
        web.cookies.set("helpdesk_dashboard", "eyJwIjoiZmFrZTptaWEifQ.forged", path="/dashboard")
        assert (await web.get("/dashboard/data.json")).status_code == 401
        assert (await web.post("/dashboard/logout", data={"csrf": "x"})).status_code == 403
        login = await web.get("/dashboard/login")
        assert login.status_code == 200
        assert "script-src 'self'" in login.headers["content-security-policy"]
        assert "<script>" not in login.text and "style=" not in login.text
        # the static files hold no figures: public, cached, revalidated by their ETag
        for name in ("dashboard.css", "dashboard.js"):
            plain = await web.get(f"/static/dashboard/{name}")
            assert plain.status_code == 200 and "max-age" in plain.headers["cache-control"]
            etag = plain.headers["etag"]
            again = await web.get(f"/static/dashboard/{name}", headers={"If-None-Match": etag})
            assert again.status_code == 304
        # as the pages link them (named by their content), they are cached for good
        stylesheet = re.search(r"/static/dashboard/dashboard\.css\?v=\w+", login.text)
        assert stylesheet is not None
        versioned = await web.get(stylesheet.group(0))
        assert "immutable" in versioned.headers["cache-control"]
        assert (await web.get("/static/dashboard/app.py")).status_code == 404


async def test_password_sign_in_checks_the_csrf_token_and_signs_out(desk: Desk) -> None:
    async with client(desk) as web:
        form = await web.get("/dashboard/login")
        no_token = await web.post(
            "/dashboard/login", data={"account": "fake:mia", "password": PASSWORD}
        )
        assert no_token.status_code == 403 and "helpdesk_dashboard=" not in str(
            no_token.headers.get_list("set-cookie")
        )
        # a token from another browser (another pre-session cookie) is no good either
        async with client(desk) as other:
            foreign = csrf_of((await other.get("/dashboard/login")).text)
        stolen = await web.post(
            "/dashboard/login",
            data={"csrf": foreign, "account": "fake:mia", "password": PASSWORD},
        )
        assert stolen.status_code == 403
        wrong = await web.post(
            "/dashboard/login",
            data={"csrf": csrf_of(form.text), "account": "fake:mia", "password": "guess"},
        )
        assert wrong.status_code == 401 and "do not match" in wrong.text
        signed = await sign_in_with_password(web)
        assert signed.status_code == 303 and signed.headers["location"] == "/dashboard"
        cookie = next(
            c for c in signed.headers.get_list("set-cookie") if c.startswith("helpdesk_dashboard=")
        )
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Max-Age=28800" in cookie
        page = await web.get("/dashboard")
        assert page.status_code == 200 and "SLA clocks" in page.text
        data = (await web.get("/dashboard/data.json")).json()
        assert {"queues", "cases", "periods"} <= set(data)
        # signing out is a state change: a form without its token is refused
        assert (await web.post("/dashboard/logout", data={"csrf": "nope"})).status_code == 403
        assert (await web.get("/dashboard/data.json")).status_code == 200
        out = await web.post("/dashboard/logout", data={"csrf": csrf_of(page.text)})
        assert out.status_code == 303
        assert (await web.get("/dashboard/data.json")).status_code == 401


async def test_sign_in_attempts_are_limited(desk: Desk) -> None:
    async with client(desk) as web:
        for _ in range(5):
            assert (await sign_in_with_password(web, "guess")).status_code == 401
        limited = await sign_in_with_password(web)  # even the right password, for now
        assert limited.status_code == 429 and "Too many attempts" in limited.text
        desk.clock.advance(minutes=16)
        assert (await sign_in_with_password(web)).status_code == 303


async def test_a_session_ends_at_its_expiry_and_when_the_role_is_taken_away(desk: Desk) -> None:
    async with client(desk) as web:
        await sign_in_with_password(web)
        assert (await web.get("/dashboard/data.json")).status_code == 200
        desk.clock.advance(hours=8, seconds=1)
        assert (await web.get("/dashboard/data.json")).status_code == 401
        desk.clock.advance(minutes=20)  # past the attempt window of the sign-ins above
        await sign_in_with_password(web)
        assert (await web.get("/dashboard/data.json")).status_code == 200
        # mia is no longer a manager: her next request is refused, with no restart
        desk.config.write_text(
            desk_yaml(managers=("eve",), passwords={"fake:mia": PASSWORD_HASH}), encoding="utf-8"
        )
        assert (await web.get("/dashboard/data.json")).status_code == 401
        assert (await web.get("/dashboard")).status_code == 303
        assert (await sign_in_with_password(web)).status_code == 401


async def test_the_chat_sign_in_link_works_once_and_expires(desk: Desk) -> None:
    t = desk.t
    # typed as a plain message in the agents' channel, as the README says
    answer = await t.agent("dashboard", user="mia", name="Mia", kind=InboundKind.MESSAGE)
    token = link_token(answer)
    sent = t.channels["fake"].sent[-1]
    assert sent.private_to == "mia"  # only the manager sees it
    async with client(desk) as web:
        # opening the link (as a chat app's link preview does) does not use it up
        for _ in range(2):
            shown = await web.get(f"/dashboard/sign-in/{token}")
            assert shown.status_code == 200 and "Continue to the dashboard" in shown.text
        used = await web.post(f"/dashboard/sign-in/{token}", data={"csrf": csrf_of(shown.text)})
        assert used.status_code == 303 and used.headers["location"] == "/dashboard"
        assert (await web.get("/dashboard/data.json")).status_code == 200
    async with client(desk) as again:
        form = await again.get(f"/dashboard/sign-in/{token}")
        twice = await again.post(f"/dashboard/sign-in/{token}", data={"csrf": csrf_of(form.text)})
        assert twice.status_code == 401 and "used already" in twice.text
        # a fresh link, a minute too late
        late = link_token(await t.agent("/dashboard", user="adam", name="Adam"))
        desk.clock.advance(minutes=10, seconds=1)
        form = await again.get(f"/dashboard/sign-in/{late}")
        expired = await again.post(f"/dashboard/sign-in/{late}", data={"csrf": csrf_of(form.text)})
        assert expired.status_code == 401
        assert (await again.get("/dashboard/data.json")).status_code == 401


@pytest.mark.parametrize("who", ["ada", "dana"])  # a customer, a plain agent
async def test_only_managers_and_admins_get_a_link(
    desk: Desk, who: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.dialogs.dashboard_link"):
        answer = await desk.t.agent("dashboard", user=who, name=who.title())
    assert answer == [replies.NOT_A_MANAGER_FOR_DASHBOARD]
    assert desk.t.channels["fake"].sent[-1].private_to == who
    assert f"refused dashboard from fake:{who}" in caplog.text
    async with desk.t.helpdesk.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(DashboardSignIn)) == 0


async def test_an_open_event_stream_ends_when_the_role_is_taken_away(desk: Desk) -> None:
    async with client(desk) as web:
        await sign_in_with_password(web)
        async with web.stream("GET", "/dashboard/events") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            events = _events(stream)
            kind, data = await anext(events)
            assert kind == "snapshot" and data["figures"]["cases"] == []
            await desk.t.say("I forgot my password")
            await desk.t.click("Talk to a person")
            async for kind, data in events:  # the changes, pushed: the answer, then the case
                assert kind == "snapshot"
                if data["figures"]["cases"]:
                    break
            assert [c["number"] for c in data["figures"]["cases"]] == [1]
            desk.config.write_text(desk_yaml(managers=("eve",)), encoding="utf-8")
            await desk.t.agent("claim 1")  # the next update finds mia no longer a manager
            assert (await anext(events))[0] == "signed-out"
            assert [event async for event in events] == []  # and the stream ends


async def _events(stream: httpx.Response) -> AsyncIterator[tuple[str, Any]]:
    """The named events of a server-sent-event stream, with their JSON data."""
    kind, data = "", ""
    async for line in stream.aiter_lines():
        if line.startswith("event: "):
            kind = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data = line.removeprefix("data: ")
        elif not line and kind:
            yield kind, json.loads(data)
            kind, data = "", ""


async def test_a_customer_asking_in_their_own_chat_gets_no_link(desk: Desk) -> None:
    answer = await desk.t.say("/dashboard")  # their own conversation with the bot
    assert answer == [as_sent(replies.HELP)]
    async with desk.t.helpdesk.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(DashboardSignIn)) == 0


def test_the_web_process_serves_the_dashboard_only_with_its_secret(desk: Desk) -> None:
    helpdesk = desk.t.helpdesk
    assert routes_for(helpdesk) == []  # no HELPDESK_DASHBOARD_SECRET: no dashboard at all
    settings = helpdesk.settings.model_copy(update={"dashboard_secret": SecretStr("s" * 32)})
    paths = {getattr(r, "path", "") for r in routes_for(replace(helpdesk, settings=settings))}
    assert {"/dashboard", "/dashboard/events", "/dashboard/data.json"} <= paths
