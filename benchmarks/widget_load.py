"""Many web chat visitors at once against one web process, over WebSockets.

    helpdesk bench widget [--sessions 200] [--messages 2] [--database-url URL] [--json]

The server is the product, in a process of its own: ``helpdesk run --role web`` (uvicorn, the
web chat adapter, the intake, the real encoder, intent model and bundled articles, the outbox
sender), on 127.0.0.1 and a free port, with SQLite (a new file) or the PostgreSQL database
given. This process plays the browsers: ``sessions`` WebSockets opened at once, each saying
hello, then asking ``messages`` questions from the bundled knowledge-base queries one after
the other, each time waiting for the desk's answer (one visitor in four asks for a person, so
cases open).

Figures: connect-to-welcome and question-to-answer latency (p50/p95/p99, from sending the
frame to the first desk entry after it), answers per second over the whole run, the load
average before and after. Then every session's log is read from the database (what a reloaded
page is sent) and compared with what it was shown live (see ``_count``): ``lost`` and
``duplicated`` must be 0; ``late`` counts answers that came after a visitor stopped waiting
(slow, not lost).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from benchmarks.pipeline import customer_texts, database_kind, prepare_data_dir

ANSWER_TIMEOUT = 300.0  # seconds a visitor waits before the run calls the question unanswered
START_TIMEOUT = 600.0  # the web process's start (a first run trains the intent model)
SECRET = "benchmark-web-secret"

Progress = Callable[[str], None]


@dataclass
class Visitor:
    number: int
    questions: list[str]
    token: str = ""
    connect_s: float = 0.0
    latencies: list[float] = field(default_factory=list)
    shown: dict[int, dict[str, Any]] = field(default_factory=dict)  # seq → entry, live
    shown_twice: int = 0
    unanswered: int = 0
    refusals: int = 0  # error frames (e.g. ``unavailable`` while the database was busy)


async def _frames(ws: ClientConnection) -> dict[str, Any]:
    return json.loads(await ws.recv(decode=True))


async def visit(url: str, visitor: Visitor) -> None:
    """One browser: hello, then each question in turn, waiting for its answer."""
    started = time.perf_counter()
    async with connect(url, open_timeout=ANSWER_TIMEOUT, max_queue=None) as ws:
        await ws.send(json.dumps({"type": "hello", "token": "", "last_seq": 0}))
        welcome = await _frames(ws)
        visitor.token = welcome["token"]
        visitor.connect_s = time.perf_counter() - started
        for n, text in enumerate(visitor.questions):
            asked = time.perf_counter()
            message = json.dumps({"type": "message", "id": f"q{n}", "text": text})
            await ws.send(message)
            try:
                async with asyncio.timeout(ANSWER_TIMEOUT):
                    while True:
                        frame = await _frames(ws)
                        if frame["type"] == "error":  # as the widget does: the same id again
                            visitor.refusals += 1
                            await asyncio.sleep(1.0)
                            await ws.send(message)
                        if frame["type"] != "entry":
                            continue
                        if frame["seq"] in visitor.shown:
                            visitor.shown_twice += 1
                        visitor.shown[frame["seq"]] = frame
                        if frame["kind"] == "desk":
                            visitor.latencies.append(time.perf_counter() - asked)
                            break
            except TimeoutError:
                visitor.unanswered += 1
        # what was written after the last answer (a second line of it) arrives too
        with_more = True
        while with_more:
            try:
                async with asyncio.timeout(1.0):
                    frame = await _frames(ws)
            except TimeoutError:
                with_more = False
                continue
            if frame["type"] == "entry":
                visitor.shown_twice += frame["seq"] in visitor.shown
                visitor.shown[frame["seq"]] = frame


async def stored_logs(
    database_url: str, visitors: list[Visitor]
) -> list[dict[int, dict[str, Any]]]:
    """Every session's whole log as the database holds it (what a reloaded page is sent), read
    through the product's own ``DatabaseSessionLog``."""
    from bot.adapters.web_tokens import SessionSigner
    from bot.clock import SystemClock
    from bot.storage.db import create_engine, session_factory
    from bot.storage.web_chat_log import DatabaseSessionLog

    signer = SessionSigner(SECRET, lifetime=timedelta(days=1))
    engine = create_engine(database_url)
    try:
        log = DatabaseSessionLog(sessions=session_factory(engine), clock=SystemClock())
        logs = []
        for visitor in visitors:
            session = signer.verify(visitor.token, datetime.now(UTC)).session_id
            entries = await log.since(session, 0, 10_000)
            logs.append({e.seq: dict(e.body) for e in entries})
        return logs
    finally:
        await engine.dispose()


def _percentiles(values: list[float]) -> dict[str, float]:
    if len(values) < 2:
        return {"p50": round(values[0] * 1000, 1) if values else 0.0}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {
        "p50": round(cuts[49] * 1000, 1),
        "p95": round(cuts[94] * 1000, 1),
        "p99": round(cuts[98] * 1000, 1),
        "max": round(max(values) * 1000, 1),
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _wait_until_up(base: str, server: asyncio.subprocess.Process) -> None:
    async with httpx.AsyncClient(base_url=base) as http, asyncio.timeout(START_TIMEOUT):
        while True:
            if server.returncode is not None:
                raise RuntimeError(f"the web process exited with {server.returncode}")
            try:
                if (await http.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.5)


def _count(visitors: list[Visitor], replayed: list[dict[int, dict[str, Any]]]) -> dict[str, int]:
    """Losses and duplicates, from what each browser was shown live and its session's log.

    ``late``: questions whose answer came after the visitor stopped waiting (``ANSWER_TIMEOUT``)
    — slow, not lost, if the log has the answer. ``lost``: questions the log lacks, questions
    the log has no answer after, entries shown live that the log lacks, and entries of the log
    older than the newest one shown live that were never shown (a gap in delivery).
    ``duplicated``: entries shown twice, questions stored twice."""
    late = lost = duplicated = 0
    for visitor, log in zip(visitors, replayed, strict=True):
        late += visitor.unanswered
        duplicated += visitor.shown_twice
        asked = [e["id"] for e in log.values() if e.get("kind") == "visitor"]
        duplicated += len(asked) - len(set(asked))
        lost += len(visitor.questions) - len(set(asked))
        seqs = sorted(log)
        for seq in seqs:
            if log[seq].get("kind") == "visitor":
                lost += not any(log[s].get("kind") == "desk" for s in seqs if s > seq)
        lost += len(set(visitor.shown) - set(log))
        newest_shown = max(visitor.shown, default=0)
        lost += len({s for s in log if s < newest_shown} - set(visitor.shown))
    return {"late": late, "lost": lost, "duplicated": duplicated}


async def run_widget_load(
    *,
    sessions: int,
    messages: int,
    database_url: str | None,
    data_dir: Path,
    progress: Progress,
) -> dict[str, Any]:
    prepare_data_dir(data_dir)
    scratch = Path(tempfile.mkdtemp(prefix="widget-load-"))
    url = database_url or f"sqlite:///{scratch / 'helpdesk.db'}"
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "HELPDESK_DATA_DIR": str(data_dir),
        "HELPDESK_WEB_SECRET": SECRET,
        "PORT": str(port),
        "HELPDESK_WEB_HOST": "127.0.0.1",
        "HELPDESK_LOG_LEVEL": "WARNING",
    }
    for name in ("SLACK_BOT_TOKEN", "TELEGRAM_TOKEN", "DISCORD_TOKEN", "RASA_URL"):
        env.pop(name, None)
    base = f"http://127.0.0.1:{port}"
    progress(f"starting `helpdesk run --role web` on {database_kind(url)}")
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--role",
        "web",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await _wait_until_up(base, server)
        texts = customer_texts(sessions * messages)
        visitors = [Visitor(i, texts[i * messages : (i + 1) * messages]) for i in range(sessions)]
        ws_url = base.replace("http", "ws") + "/widget/ws"
        load_before = os.getloadavg()
        progress(f"{sessions} visitors, {messages} questions each, at once")
        started = time.perf_counter()
        await asyncio.gather(*(visit(ws_url, v) for v in visitors))
        elapsed = time.perf_counter() - started
        load_after = os.getloadavg()
        progress("reading every session's log")
        replayed = await stored_logs(url, visitors)
    finally:
        server.terminate()
        await server.wait()
    latencies = [s for v in visitors for s in v.latencies]
    return {
        "name": f"widget-load-{database_kind(url)}",
        "database": database_kind(url),
        "sessions": sessions,
        "questions": sessions * messages,
        "answered": len(latencies),
        "answer_timeout_s": ANSWER_TIMEOUT,
        "refused_then_resent": sum(v.refusals for v in visitors),
        **_count(visitors, replayed),
        "seconds": round(elapsed, 2),
        "answers_per_s": round(len(latencies) / elapsed, 2) if elapsed else 0.0,
        "connect_ms": _percentiles([v.connect_s for v in visitors]),
        "answer_ms": _percentiles(latencies),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
    }
