"""The web chat's protocol as a browser speaks it, without a browser: a WebSocket client and
plain HTTP against the web app served by uvicorn on 127.0.0.1, a real database, the keyword
understander (the real model is in the browser tests). Origins, tokens, bad frames, resends,
rate limits, signed identities, the SSE + POST fallback, and a message sent by another process.

What this cannot prove: how a browser enforces Origin and CSP (the browser tests run the
widget under the demo page's policy)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy import func, select
from websockets.asyncio.client import ClientConnection, connect

from bot.adapters.web import WebChannel
from bot.adapters.web_tokens import SessionSigner, identity_signature
from bot.adapters.web_visit import RateLimit
from bot.clock import SystemClock
from bot.messages import Button, ChannelRef, Outbound
from bot.storage.models import InboxMessage, WebChatEntry
from bot.storage.web_chat_log import DatabaseSessionLog
from tests.support.desk import KeywordUnderstander
from tests.support.web_desk import IDENTITY_SECRET, WEB_SECRET, ServedDesk, served_desk

SHOP = "https://shop.example"
BURST = 6


@pytest.fixture
def desk(database_url: str, tmp_path: Path) -> Iterator[ServedDesk]:
    """On both databases: for what depends on the storage (resends, the session log across
    processes, identities)."""
    yield from _served(database_url, tmp_path)


@pytest.fixture
def edge(tmp_path: Path) -> Iterator[ServedDesk]:
    """On SQLite only: for the checks at the edge (origins, tokens, frames, rate limits, the
    fallback's HTTP), which touch the database the same way on both."""
    yield from _served(f"sqlite:///{tmp_path / 'helpdesk.db'}", tmp_path)


def _served(database_url: str, tmp_path: Path) -> Iterator[ServedDesk]:
    with served_desk(
        database_url,
        tmp_path,
        origins=(SHOP,),
        understander=KeywordUnderstander(),
        limit=RateLimit(burst=BURST, refill=timedelta(hours=1)),
    ) as served:
        yield served


def ws_url(desk: ServedDesk) -> str:
    return desk.url.replace("http://", "ws://") + "/widget/ws"


async def next_frame(ws: ClientConnection) -> dict[str, Any]:
    return json.loads(await ws.recv(decode=True))


async def frames_until(
    ws: ClientConnection, done: Callable[[dict[str, Any]], bool]
) -> list[dict[str, Any]]:
    """Every frame up to and including the first for which ``done`` holds (10 s at most)."""
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(10):
        while not seen or not done(seen[-1]):
            seen.append(json.loads(await ws.recv(decode=True)))
    return seen


async def hello(ws: ClientConnection, token: str = "", last_seq: int = 0, **more: Any) -> str:
    await ws.send(json.dumps({"type": "hello", "token": token, "last_seq": last_seq, **more}))
    welcome = await next_frame(ws)
    assert welcome["type"] == "welcome", welcome
    return str(welcome["token"])


def says(words: str) -> Callable[[dict[str, Any]], bool]:
    return lambda frame: frame.get("type") == "entry" and words in frame.get("text", "")


async def test_only_the_sites_on_the_allow_list_and_the_page_itself_may_connect(
    edge: ServedDesk,
) -> None:
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with connect(ws_url(edge), origin="https://evil.example"):  # type: ignore[arg-type]
            pass
    assert refused.value.response.status_code == 403
    async with connect(ws_url(edge), origin=SHOP) as ws:  # type: ignore[arg-type]
        assert await hello(ws)
    async with connect(ws_url(edge), origin=edge.url) as ws:  # type: ignore[arg-type]
        assert await hello(ws)  # /demo, served by the web process itself
    async with httpx.AsyncClient(base_url=edge.url) as http:
        answer = await http.post(
            "/widget/messages",
            json={"type": "hello", "token": ""},
            headers={"Origin": "https://evil.example"},
        )
    assert answer.status_code == 403


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(
            SessionSigner("someone-elses-secret", lifetime=timedelta(days=1)), id="forged"
        ),
        pytest.param(SessionSigner(WEB_SECRET, lifetime=timedelta(seconds=-1)), id="expired"),
    ],
)
async def test_a_forged_or_expired_session_token_is_refused(
    edge: ServedDesk, token: SessionSigner
) -> None:
    now = datetime.now(UTC)
    bad = token.token(token.new_session(now))
    async with connect(ws_url(edge)) as ws:
        await ws.send(json.dumps({"type": "hello", "token": bad, "last_seq": 0}))
        refused = await next_frame(ws)
        assert refused["type"] == "error" and refused["code"] == "bad_token"
        await ws.wait_closed()
        assert ws.close_code == 4401
    async with httpx.AsyncClient(base_url=edge.url) as http:
        events = await http.get("/widget/events", params={"token": bad})
        posted = await http.post(
            "/widget/messages", json={"type": "message", "id": "m1", "text": "hi", "token": bad}
        )
    assert events.status_code == 401 and posted.status_code == 401


async def test_bad_frames_get_a_clear_error_and_the_conversation_goes_on(
    edge: ServedDesk,
) -> None:
    async with connect(ws_url(edge), max_size=None) as ws:
        await ws.send(json.dumps({"type": "message", "id": "early", "text": "hi"}))
        assert (await next_frame(ws))["code"] == "hello_first"
        await hello(ws)
        cases = [
            (b"\x00\x01binary", "binary"),
            ("not json", "malformed"),
            ("[1, 2]", "malformed"),
            (json.dumps({"type": "message", "id": "m1", "text": "   "}), "empty"),
            (json.dumps({"type": "message", "id": "m2", "text": "x" * 2001}), "too_large"),
            (json.dumps({"type": "message", "id": "m3", "text": "x" * 9000}), "too_large"),
            (json.dumps({"type": "message", "id": "bad id!", "text": "hi"}), "malformed"),
            (json.dumps({"type": "shout", "id": "m4"}), "malformed"),
        ]
        for frame, code in cases:
            await ws.send(frame)
            error = await next_frame(ws)
            assert error["type"] == "error" and error["code"] == code, (frame, error)
            assert error["message"]
        await ws.send(json.dumps({"type": "message", "id": "m5", "text": "forgot my password"}))
        seen = await frames_until(ws, says("Reset your password"))
        assert {"type": "ack", "id": "m5", "seq": seen[0]["seq"]} in seen


async def test_a_message_sent_again_after_a_reconnect_is_stored_and_answered_once(
    desk: ServedDesk,
) -> None:
    message = json.dumps({"type": "message", "id": "same-1", "text": "forgot my password"})
    async with connect(ws_url(desk)) as ws:
        token = await hello(ws)
        await ws.send(message)
        first = await frames_until(ws, says("Reset your password"))
    async with connect(ws_url(desk)) as ws:  # the ack was lost: the widget sends it again
        await hello(ws, token, last_seq=max(f.get("seq", 0) for f in first))
        await ws.send(message)
        assert (await frames_until(ws, lambda f: f["type"] == "ack"))[-1]["id"] == "same-1"
    desk.call(desk.helpdesk.intake.wait_idle())
    stored, logged = desk.call(_count_rows(desk))
    assert stored == 1
    answers = [f for f in first if f["type"] == "entry" and f["kind"] == "desk"]
    assert logged == 1 + len(answers)


async def test_a_session_sending_too_fast_is_told_to_wait(edge: ServedDesk) -> None:
    async with connect(ws_url(edge)) as ws:
        await hello(ws)
        for n in range(BURST + 1):
            await ws.send(json.dumps({"type": "message", "id": f"m{n}", "text": f"hello {n}"}))
        seen = await frames_until(ws, lambda f: f["type"] == "error")
    assert seen[-1]["code"] == "rate_limited" and seen[-1]["id"] == f"m{BURST}"
    assert sum(f["type"] == "ack" for f in seen) == BURST


async def test_a_visitor_the_site_vouches_for_finds_their_conversation_on_another_device(
    desk: ServedDesk,
) -> None:
    signature = identity_signature(IDENTITY_SECRET, "cust-42", "ada@example.com")
    identity = {
        "user_id": "cust-42",
        "email": "ada@example.com",
        "name": "Ada",
        "signature": signature,
    }
    async with connect(ws_url(desk)) as laptop:
        await laptop.send(json.dumps({"type": "hello", "token": "", "identity": identity}))
        assert (await next_frame(laptop))["identified"] is True
        await laptop.send(json.dumps({"type": "message", "id": "q1", "text": "forgot my password"}))
        await frames_until(laptop, says("Reset your password"))
    async with connect(ws_url(desk)) as phone:  # no token: the site's word is enough
        await phone.send(json.dumps({"type": "hello", "token": "", "identity": identity}))
        seen = await frames_until(phone, says("Reset your password"))
        assert any(f.get("kind") == "visitor" and f["text"] == "forgot my password" for f in seen)
    forged = {**identity, "signature": "0" * 64}
    async with connect(ws_url(desk)) as stranger:
        await stranger.send(json.dumps({"type": "hello", "token": "", "identity": forged}))
        assert (await next_frame(stranger))["identified"] is False


async def test_the_fallback_carries_the_same_frames_over_events_and_posts(
    edge: ServedDesk,
) -> None:
    async with httpx.AsyncClient(base_url=edge.url, timeout=10) as http:
        welcome = (await http.post("/widget/messages", json={"type": "hello"})).json()
        token = welcome["frames"][0]["token"]
        sent = await http.post(
            "/widget/messages",
            json={"type": "message", "id": "p1", "text": "forgot my password", "token": token},
        )
        assert sent.status_code == 200 and sent.json()["frames"][0]["type"] == "ack"
        entries: list[dict[str, Any]] = []
        async with http.stream("GET", "/widget/events", params={"token": token}) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            async for line in stream.aiter_lines():
                if line.startswith("data: "):
                    entries.append(json.loads(line[6:]))
                if entries and "Reset your password" in entries[-1].get("text", ""):
                    break
        last = entries[-1]["seq"]
        async with http.stream(
            "GET", "/widget/events", params={"token": token}, headers={"Last-Event-ID": str(last)}
        ) as resumed:
            edge.call(_send_from_elsewhere(edge, _session_of(token), "After the resume"))
            async for line in resumed.aiter_lines():
                if line.startswith("data: "):
                    assert "After the resume" in json.loads(line[6:])["text"]
                    break
    assert entries[0]["kind"] == "visitor" and entries[0]["text"] == "forgot my password"


async def test_a_message_sent_by_another_process_reaches_the_open_socket(
    desk: ServedDesk,
) -> None:
    async with connect(ws_url(desk)) as ws:
        token = await hello(ws)
        desk.call(_send_from_elsewhere(desk, _session_of(token), "From the worker"))
        seen = await frames_until(ws, says("From the worker"))
    assert seen[-1]["buttons"] == [{"label": "Yes", "payload": "fb:1:yes", "style": "default"}]


async def _count_rows(desk: ServedDesk) -> tuple[int, int]:
    """Inbox rows and session log entries (read on the desk's own loop and connections)."""
    async with desk.helpdesk.sessions() as db:
        stored = await db.scalar(select(func.count()).select_from(InboxMessage))
        logged = await db.scalar(select(func.count()).select_from(WebChatEntry))
    return int(stored or 0), int(logged or 0)


def _session_of(token: str) -> str:
    return (
        SessionSigner(WEB_SECRET, lifetime=timedelta(days=1))
        .verify(token, datetime.now(UTC))
        .session_id
    )


async def _send_from_elsewhere(desk: ServedDesk, session: str, text: str) -> None:
    """What a worker's outbox sender does: its own web channel and database connections, no
    browser of its own; the served web process must notice by itself."""
    elsewhere = WebChannel(secret=WEB_SECRET)
    sessions = desk.helpdesk.sessions  # the same database; the rows are all they share
    elsewhere.use_session_log(DatabaseSessionLog(sessions=sessions, clock=SystemClock()))
    await elsewhere.send(
        Outbound(
            channel=ChannelRef("web", session),
            text=text,
            buttons=(Button("Yes", "fb:1:yes"),),
        )
    )
