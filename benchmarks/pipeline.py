"""The whole pipeline under load, next to the encoder that limits it, in one process and one run.

    helpdesk bench pipeline [--database-url URL] [--customers 400] [--rate 50] [--json]

What a customer's message goes through in production, driven through a stand-in platform: the
adapter's ``on_inbound`` (the inbox row stored before the platform would be acknowledged), the
intake claiming it, the dialog engine with the real encoder (``HELPDESK_ENCODER`` respected,
ONNX by default), the intent model and the knowledge search over the bundled articles, cases
for the customers who ask for a person, and the outbox rows delivered by the outbox sender.

The figures, all from the same process:

- ``encoder``: the raw encoder (no cache, no help desk around it) on one text at a time and on
  batches of 32 — the batched rate is the limit the pipeline is held against;
- ``saturation``: ``customers`` new customers each asking one question at once; messages/s
  until the last of them has its answer, and that rate over the encoder's batched rate;
- ``offered_rate``: new customers arriving at ``rate`` messages/s, open loop (a late answer
  does not delay the next arrival); p50/p95/p99 from arrival to the answer's delivery;
- per message in each phase: database statements (round trips), transactions, and the time
  spent inside statements, counted by SQLAlchemy cursor events on the help desk's own engine;
  the CPU time of the process and of the event loop's thread alone (the dialog, the ORM and
  the drivers' Python run there, one core at most);
- ``peak_rss_mb``: the process's peak resident memory once the pipeline phases are done
  (``getrusage`` maxrss: models, index, database pool and the driver itself).

Every message must be answered: ``answered`` counts customers who got a reply, ``handled`` the
inbox rows marked done on their first attempt, ``delivered`` / ``outbox_rows`` the platform's
deliveries against the rows written (a duplicate delivery would show as more deliveries), and
``arrivals_refused`` the events the bot failed to store (the stand-in delivers them again, as a
platform does with an event that was not acknowledged).
One customer in four asks for a person with a problem, so cases open and agents are notified.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.fake import FakeChannel
from bot.config import PROJECT_ROOT, DeskConfig, QueueConfig, RoleMembers, Roles, Settings
from bot.messages import ChannelRef, Inbound, InboundKind, Outbound, SentRef
from bot.storage.models import InboxMessage, OutboxMessage

QUERIES = PROJECT_ROOT / "benchmarks" / "data" / "bundled-kb-queries.yml"
AGENTS = "fake:agents"
BATCH = 32
SINGLE_TEXTS = 100
BATCHES = 10
REDELIVERIES = 5
ANSWER_TIMEOUT = 300.0  # seconds a customer waits before the run calls the message unanswered

Progress = Callable[[str], None]


def bench_desk() -> DeskConfig:
    return DeskConfig(
        roles=Roles(agents=RoleMembers(fake=["dana"])),
        queues=[QueueConfig(name="default", channel=AGENTS)],
    )


def customer_texts(count: int, *, offset: int = 0) -> list[str]:
    """Customer questions from the bundled knowledge-base queries; every fourth asks for a
    person about it. Each is made distinct (``ref``), so no cache answers a text twice."""
    queries = [q["text"] for q in yaml.safe_load(QUERIES.read_text("utf-8"))["queries"]]
    texts = []
    for i in range(offset, offset + count):
        question = queries[i % len(queries)]
        if i % 4 == 3:
            question = f"I need to talk to a person: {question}"
        texts.append(f"{question} (ref {i})")
    return texts


# --- the stand-in platform and the counters


@dataclass
class TimedChannel(FakeChannel):
    """The fake platform, noting when each conversation was first sent something."""

    first_delivery: dict[str, float] = field(default_factory=dict)
    deliveries: int = 0
    _answered: dict[str, asyncio.Event] = field(default_factory=lambda: defaultdict(asyncio.Event))

    async def send(self, outbound: Outbound) -> SentRef:
        ref = await super().send(outbound)
        self.deliveries += 1
        where = str(outbound.channel.without_thread)
        if where not in self.first_delivery:
            self.first_delivery[where] = time.perf_counter()
            self._answered[where].set()
        return ref

    async def answered(self, where: str) -> float | None:
        """When ``where`` was first sent something (None if not within the timeout)."""
        try:
            await asyncio.wait_for(self._answered[where].wait(), ANSWER_TIMEOUT)
        except TimeoutError:
            return None
        return self.first_delivery[where]


@dataclass
class StatementCounter:
    """Statements, transactions and time inside statements on one engine (cursor events)."""

    statements: int = 0
    transactions: int = 0
    seconds: float = 0.0
    _started: dict[int, float] = field(default_factory=dict)

    def attach(self, engine: AsyncEngine) -> None:
        sync = engine.sync_engine
        event.listen(sync, "before_cursor_execute", self._before)
        event.listen(sync, "after_cursor_execute", self._after)
        event.listen(sync, "commit", self._commit)

    def detach(self, engine: AsyncEngine) -> None:
        sync = engine.sync_engine
        event.remove(sync, "before_cursor_execute", self._before)
        event.remove(sync, "after_cursor_execute", self._after)
        event.remove(sync, "commit", self._commit)

    def snapshot(self) -> tuple[int, int, float]:
        return self.statements, self.transactions, self.seconds

    def _before(self, conn: Any, cursor: Any, *_: Any) -> None:
        self._started[id(cursor)] = time.perf_counter()

    def _after(self, conn: Any, cursor: Any, *_: Any) -> None:
        self.statements += 1
        started = self._started.pop(id(cursor), None)
        if started is not None:
            self.seconds += time.perf_counter() - started

    def _commit(self, conn: Any) -> None:
        self.transactions += 1


@contextmanager
def counting(counter: StatementCounter, into: dict[str, Any], messages: int) -> Iterator[None]:
    """Adds the database figures per message of what runs inside to ``into``."""
    before = counter.snapshot()
    cpu, loop_cpu = time.process_time(), time.thread_time()
    yield
    cpu, loop_cpu = time.process_time() - cpu, time.thread_time() - loop_cpu
    after = counter.snapshot()
    statements, transactions, seconds = (a - b for a, b in zip(after, before, strict=True))
    per = max(messages, 1)
    into["db_statements_per_message"] = round(statements / per, 1)
    into["db_transactions_per_message"] = round(transactions / per, 1)
    into["db_ms_per_message"] = round(seconds * 1000 / per, 2)
    # CPU of the whole process (every thread: the encoder's, the drivers') and of the event
    # loop's thread alone, which runs the dialog, the ORM and the drivers' Python: one core
    # at most, so it bounds messages/s at 1000 / loop_cpu_ms_per_message
    into["cpu_ms_per_message"] = round(cpu * 1000 / per, 1)
    into["loop_cpu_ms_per_message"] = round(loop_cpu * 1000 / per, 1)


# --- the run


@dataclass
class Pipeline:
    """A running help desk on the fake platform, and a source of new customers."""

    helpdesk: Any
    channel: TimedChannel
    counter: StatementCounter
    run_id: str
    refused: int = 0  # arrivals the bot could not store (the platform delivers them again)
    _next: int = 0

    async def ask(self, texts: Sequence[str]) -> list[str]:
        """New customers, one question each, arriving together; returns their conversations."""
        arrivals = [self._inbound(text) for text in texts]
        await asyncio.gather(*(self._deliver(inbound) for inbound in arrivals))
        return [str(inbound.channel) for inbound in arrivals]

    async def _deliver(self, inbound: Inbound) -> None:
        """As a platform does: an event the bot failed to accept (not acknowledged) comes again."""
        assert self.channel.on_inbound is not None
        for _ in range(REDELIVERIES):
            try:
                await self.channel.on_inbound(inbound)
                return
            except Exception:
                self.refused += 1
        raise RuntimeError(f"{inbound.event_id} was refused {REDELIVERIES} times")

    def _inbound(self, text: str) -> Inbound:
        n = self._next
        self._next += 1
        return Inbound(
            kind=InboundKind.MESSAGE,
            event_id=f"{self.run_id}-{n}",
            channel=ChannelRef("fake", f"bench-{self.run_id}-{n}"),
            user_id=f"customer-{self.run_id}-{n}",
            user_name=f"Customer {n}",
            text=text,
            is_direct=True,
        )


async def saturation(pipeline: Pipeline, customers: int, offset: int) -> dict[str, Any]:
    """``customers`` questions at once; messages/s until the last one is answered."""
    texts = customer_texts(customers, offset=offset)
    result: dict[str, Any] = {"messages": customers}
    with counting(pipeline.counter, result, customers):
        started = time.perf_counter()
        conversations = await pipeline.ask(texts)
        answers = await asyncio.gather(*(pipeline.channel.answered(c) for c in conversations))
        times = [t for t in answers if t is not None]
        elapsed = (max(times) if times else time.perf_counter()) - started
        await settle(pipeline)
    result["answered"] = len(times)
    result["seconds"] = round(elapsed, 2)
    result["messages_per_s"] = round(len(times) / elapsed, 1) if elapsed > 0 else 0.0
    result["latency_ms"] = percentiles([t - started for t in times])
    return result


async def offered_rate(pipeline: Pipeline, rate: float, count: int, offset: int) -> dict[str, Any]:
    """One new customer every 1/``rate`` s, open loop; latency from arrival to answer."""
    texts = customer_texts(count, offset=offset)
    result: dict[str, Any] = {"offered_per_s": rate, "messages": count}
    latencies: list[float] = []

    async def customer(text: str, at: float) -> None:
        # waiting for a moment of an arrival schedule, not for something to happen
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        (conversation,) = await pipeline.ask([text])
        answered = await pipeline.channel.answered(conversation)
        if answered is not None:
            latencies.append(answered - at)

    with counting(pipeline.counter, result, count):
        start = time.perf_counter() + 0.05
        await asyncio.gather(*(customer(t, start + i / rate) for i, t in enumerate(texts)))
        await settle(pipeline)
    result["answered"] = len(latencies)
    result["latency_ms"] = percentiles(latencies)
    return result


async def settle(pipeline: Pipeline) -> None:
    """Until every stored inbound is handled and every outbox row is delivered."""
    await pipeline.helpdesk.intake.wait_idle()
    await pipeline.helpdesk.sender.drain()


def percentiles(seconds: Sequence[float]) -> dict[str, float]:
    if not seconds:
        return {}
    ordered = sorted(seconds)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": round(ordered[-1] * 1000, 1)}


async def exactly_once(pipeline: Pipeline, first_inbox: int, first_outbox: int) -> dict[str, int]:
    """What the database says about this run's rows (read after the counters are detached)."""
    async with pipeline.helpdesk.sessions() as session:
        inbox = (
            await session.execute(
                select(InboxMessage.status, InboxMessage.attempts, func.count())
                .where(InboxMessage.id > first_inbox)
                .group_by(InboxMessage.status, InboxMessage.attempts)
            )
        ).all()
        outbox = (
            await session.execute(
                select(OutboxMessage.status, func.count())
                .where(OutboxMessage.id > first_outbox)
                .group_by(OutboxMessage.status)
            )
        ).all()
    done_once = sum(n for status, attempts, n in inbox if status == "done" and attempts == 1)
    return {
        "inbound": sum(n for _, _, n in inbox),
        "handled_first_attempt": done_once,
        "not_done": sum(n for status, _, n in inbox if status != "done"),
        "outbox_rows": sum(n for _, n in outbox),
        "outbox_unsent": sum(n for status, n in outbox if status != "sent"),
        "delivered": pipeline.channel.deliveries,
        "arrivals_refused": pipeline.refused,
    }


async def highest_ids(helpdesk: Any) -> tuple[int, int]:
    async with helpdesk.sessions() as session:
        inbox = await session.scalar(select(func.max(InboxMessage.id)))
        outbox = await session.scalar(select(func.max(OutboxMessage.id)))
    return int(inbox or 0), int(outbox or 0)


@asynccontextmanager
async def running(settings: Settings, progress: Progress) -> AsyncIterator[Pipeline]:
    """The help desk as ``helpdesk run`` starts it, on one fake platform."""
    from bot.bootstrap import build_helpdesk, start_channels

    channel = TimedChannel()

    def shown(label: str, done: int, total: int) -> None:
        if done == total:
            progress(f"{label} ({total})")

    helpdesk = await build_helpdesk(
        settings, channels={"fake": channel}, desk=bench_desk(), progress=shown
    )
    tasks = [
        asyncio.create_task(helpdesk.intake.run()),
        asyncio.create_task(helpdesk.sender.run()),
    ]
    await start_channels(helpdesk)
    try:
        yield Pipeline(helpdesk, channel, StatementCounter(), uuid.uuid4().hex[:8])
    finally:
        helpdesk.intake.stop()
        helpdesk.sender.stop()
        await helpdesk.intake.wait_idle()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await helpdesk.close()


def raw_encoder(settings: Settings, singles_count: int, batches: int) -> dict[str, Any]:
    """The encoder alone: one text per call, then batches of 32 (texts no other phase used)."""
    from nlu.encoder_choice import select_embedder

    encoder = select_embedder(settings.encoder_dir, settings.encoder)
    encoder.encode(["warm up"])
    texts = customer_texts(singles_count + batches * BATCH, offset=1_000_000)
    singles = []
    for text in texts[:singles_count]:
        started = time.perf_counter()
        encoder.encode([text])
        singles.append(time.perf_counter() - started)
    rest = texts[singles_count:]
    started, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(rest), BATCH):
        encoder.encode(rest[i : i + BATCH])
    batched, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "encoder": type(encoder).__name__,
        "batch_1_texts_per_s": round(len(singles) / sum(singles), 1),
        "batch_1_ms_p50": round(statistics.median(singles) * 1000, 2),
        f"batch_{BATCH}_texts_per_s": round(len(rest) / batched, 1),
        f"batch_{BATCH}_cpu_ms_per_text": round(cpu * 1000 / len(rest), 2),
    }


async def run_pipeline(
    *,
    database_url: str | None,
    data_dir: Path,
    customers: int,
    rate: float,
    rate_messages: int,
    warmup: int = 16,
    encoder_texts: tuple[int, int] = (SINGLE_TEXTS, BATCHES),
    progress: Progress = lambda _: None,
) -> dict[str, Any]:
    """Every figure of one run (see the module docstring). ``data_dir`` holds the built intent
    model, index and encoder export between runs; without ``database_url`` the run uses a new
    SQLite file in a temporary folder. ``encoder_texts``: texts encoded one at a time, and
    batches of 32, in the raw encoder's phase."""
    logging.getLogger("bot").setLevel(logging.WARNING)
    prepare_data_dir(data_dir)
    scratch = None if database_url else Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    url = database_url or f"sqlite:///{Path(str(scratch)) / 'helpdesk.db'}"
    settings = Settings(DATABASE_URL=url, HELPDESK_DATA_DIR=data_dir)
    document: dict[str, Any] = {
        "name": f"pipeline-{database_kind(url)}",
        "database": database_kind(url),
        "encoder_setting": settings.encoder,
        "customers": customers,
    }
    try:
        progress("starting the help desk (models, index, database)")
        async with running(settings, progress) as pipeline:
            await saturation(pipeline, warmup, offset=0)  # first-use costs, not measured
            first_inbox, first_outbox = await highest_ids(pipeline.helpdesk)
            pipeline.channel.deliveries = 0
            pipeline.counter.attach(pipeline.helpdesk.engine)
            progress(f"saturation: {customers} customers at once")
            document["saturation"] = await saturation(pipeline, customers, offset=warmup)
            progress(f"offered rate: {rate_messages} messages at {rate}/s")
            document["offered_rate"] = await offered_rate(
                pipeline, rate, rate_messages, offset=warmup + customers
            )
            pipeline.counter.detach(pipeline.helpdesk.engine)
            document["exactly_once"] = await exactly_once(pipeline, first_inbox, first_outbox)
        document["peak_rss_mb"] = round(peak_rss_mb(), 1)
        progress("the raw encoder, batch 1 and 32")
        document["encoder"] = await asyncio.to_thread(raw_encoder, settings, *encoder_texts)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    limit = document["encoder"][f"batch_{BATCH}_texts_per_s"]
    document["saturation"]["ratio_to_encoder_limit"] = round(
        document["saturation"]["messages_per_s"] / limit, 2
    )
    return document


def prepare_data_dir(data_dir: Path) -> None:
    """The bundled sample's articles, intents and wording, linked into ``data_dir``; what the
    help desk builds from them (intent model, index, encoder export) stays there for reruns."""
    data_dir.mkdir(parents=True, exist_ok=True)
    for name in ("articles", "nlu", "replies.yml"):
        link = data_dir / name
        if not link.exists():
            link.symlink_to(PROJECT_ROOT / "data" / name)


def database_kind(url: str) -> str:
    return "postgresql" if url.startswith("postgres") else "sqlite"


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024  # bytes / KiB
