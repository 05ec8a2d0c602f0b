"""Fault scenarios for outbound delivery, each reporting what went in and what came out.

    python -m benchmarks.faults_outbox --database-url postgresql://…/db [--rows 240] [--json]

Every scenario queues numbered messages over several conversations, inflicts one fault, and
counts at the (fake) platform: delivered, lost (never arrived), duplicated (arrived twice),
out of order (arrived after a later message of its conversation) and parked. Time is a fake
clock: a ten-minute outage takes no ten minutes. The database's outbox tables are emptied
before each scenario, so point it at a scratch database.

- ``two_senders``: two senders (two engines, as two processes would have) with random latency
  in every send, while messages keep arriving.
- ``outage``: the platform fails every send for ten minutes, then recovers.
- ``tokenless_beside_worker``: a process without the platform's token runs its sender beside
  the worker that has it.
- ``parked_then_retried``: the platform stays down past the retry limit, the rows are parked,
  the platform recovers and an operator requeues them (``helpdesk outbox retry``).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

import typer
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import FrozenClock
from bot.delivery import OutboxSender, RetryPolicy
from bot.errors import RetryableSendError
from bot.messages import Capabilities, ChannelRef, InboundHandler, Outbound, SentRef
from bot.storage.db import create_engine, session_factory
from bot.storage.migrate import upgrade_database
from bot.storage.models import OutboxLease, OutboxMessage, SentRefRecord
from bot.storage.outbox import OutboxFilter, requeue_parked
from bot.storage.uow import UnitOfWork

PLATFORM = "fake"


@dataclass
class Figures:
    scenario: str
    queued: int
    delivered: int = 0
    lost: int = 0
    duplicated: int = 0
    out_of_order: int = 0
    parked: int = 0
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Arrivals:
    """What the platform received, in the order it received it: (conversation, sequence)."""

    seen: list[tuple[str, int]] = field(default_factory=list)

    def figures(self, scenario: str, queued: dict[str, int], parked: int) -> Figures:
        counts: dict[tuple[str, int], int] = {}
        out_of_order, latest = 0, dict.fromkeys(queued, -1)
        for conversation, number in self.seen:
            counts[(conversation, number)] = counts.get((conversation, number), 0) + 1
            if number < latest[conversation]:
                out_of_order += 1
            latest[conversation] = max(latest[conversation], number)
        expected = {(c, n) for c, total in queued.items() for n in range(total)}
        return Figures(
            scenario=scenario,
            queued=sum(queued.values()),
            delivered=len(set(counts) & expected),
            lost=len(expected - set(counts)),
            duplicated=sum(n - 1 for n in counts.values()),
            out_of_order=out_of_order,
            parked=parked,
        )


class Network:
    """Random latency without wall-clock sleeps: a message in flight waits up to a random
    number of event-loop turns, and whenever two are in flight together a random one of them
    arrives first — so messages sent at the same time arrive in any order, as on a real
    network."""

    def __init__(self, rng: random.Random, max_turns: int) -> None:
        self._rng = rng
        self._max_turns = max_turns
        self._in_flight: list[asyncio.Future[None]] = []

    async def carry(self) -> None:
        arrived: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._in_flight.append(arrived)
        if len(self._in_flight) >= 2:
            first = self._in_flight.pop(self._rng.randrange(len(self._in_flight)))
            first.set_result(None)
        for _ in range(self._rng.randint(0, self._max_turns)):
            if arrived.done():
                return
            await asyncio.sleep(0)
        if not arrived.done():
            self._in_flight.remove(arrived)


@dataclass
class FaultyChannel:
    """A platform stand-in: latency over ``network`` and an outage while ``down()`` says so;
    records every accepted message in ``arrivals``."""

    arrivals: Arrivals
    rng: random.Random
    down: Callable[[], bool] = lambda: False
    network: Network | None = None
    platform: str = PLATFORM
    capabilities: Capabilities = field(default_factory=Capabilities)

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)

    async def start(self, on_inbound: InboundHandler) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def send(self, outbound: Outbound) -> SentRef:
        if self.network is not None:
            await self.network.carry()
        if self.down():
            raise RetryableSendError("503 service unavailable")
        conversation, _, number = outbound.text.rpartition("#")
        self.arrivals.seen.append((conversation, int(number)))
        return SentRef(self.platform, outbound.channel.channel, str(next(self._ids)))


class Bench:
    """The database and clock the scenarios share."""

    def __init__(self, engine: AsyncEngine, clock: FrozenClock, seed: int) -> None:
        self.engine = engine
        self.sessions = session_factory(engine)
        self.clock = clock
        self.rng = random.Random(seed)

    async def reset(self) -> None:
        async with self.sessions.begin() as session:
            for table in (OutboxMessage, OutboxLease, SentRefRecord):
                await session.execute(delete(table))

    async def queue(self, queued: dict[str, int], conversations: Sequence[str], count: int) -> None:
        """``count`` messages, each to a random conversation, numbered per conversation."""
        async with UnitOfWork(self.sessions, self.clock) as uow:
            for _ in range(count):
                conversation = self.rng.choice(conversations)
                number = queued.get(conversation, 0)
                queued[conversation] = number + 1
                channel = ChannelRef.parse(conversation)
                uow.send(Outbound(channel=channel, text=f"{conversation}#{number}"))
            await uow.commit()

    async def count(self, status: str) -> int:
        async with self.sessions() as session:
            found = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status == status)
            )
        return int(found or 0)

    def sender(self, channels: dict[str, Any], *, name: str, **kw: Any) -> OutboxSender:
        return OutboxSender(
            sessions=kw.pop("sessions", self.sessions),
            channels=channels,
            clock=self.clock,
            rng=random.Random(self.rng.random()),
            name=name,
            **kw,
        )

    async def until_quiet(self, senders: Sequence[OutboxSender], *, limit: int = 10_000) -> int:
        """Drain (all senders at once), moving the fake clock to the next due row, until
        nothing is pending that any sender will send; returns how many rounds it took."""
        for rounds in range(1, limit + 1):
            await asyncio.gather(*(s.drain() for s in senders))
            waits = [w for w in [await s.seconds_to_next_due() for s in senders] if w is not None]
            if not waits:
                return rounds
            self.clock.advance(seconds=min(waits))
        raise RuntimeError("delivery did not settle")


def conversations(n: int) -> list[str]:
    return [f"{PLATFORM}:c{i}" for i in range(n)]


async def two_senders(bench: Bench, rows: int, *, conversation_count: int = 6) -> Figures:
    """Two senders, random latency, messages arriving in bursts while both deliver."""
    await bench.reset()
    arrivals, queued = Arrivals(), dict[str, int]()
    second_engine = create_engine(bench.engine.url.render_as_string(hide_password=False))
    network = Network(bench.rng, max_turns=2000)
    try:
        senders = [
            bench.sender(
                {PLATFORM: FaultyChannel(arrivals, random.Random(i), network=network)},
                name=f"sender-{i}",
                sessions=sessions,
            )
            for i, sessions in enumerate([bench.sessions, session_factory(second_engine)])
        ]
        names = conversations(conversation_count)
        burst = max(1, rows // 10)
        for start in range(0, rows, burst):
            await asyncio.gather(
                bench.queue(queued, names, min(burst, rows - start)),
                *(s.drain() for s in senders),
            )
        rounds = await bench.until_quiet(senders)
    finally:
        await second_engine.dispose()
    result = arrivals.figures("two_senders", queued, await bench.count("parked"))
    result.notes = {"senders": 2, "conversations": conversation_count, "rounds": rounds}
    return result


async def outage(bench: Bench, rows: int, *, minutes: float = 10) -> Figures:
    """Every send fails for ``minutes`` (fake clock), then the platform recovers."""
    await bench.reset()
    arrivals, queued = Arrivals(), dict[str, int]()
    back_at = bench.clock.now() + timedelta(minutes=minutes)
    channel = FaultyChannel(arrivals, bench.rng, down=lambda: bench.clock.now() < back_at)
    sender = bench.sender({PLATFORM: channel}, name="worker")
    started = bench.clock.now()
    await bench.queue(queued, conversations(4), rows)
    rounds = await bench.until_quiet([sender])
    result = arrivals.figures("outage", queued, await bench.count("parked"))
    settled = (bench.clock.now() - started).total_seconds() / 60
    result.notes = {"outage_minutes": minutes, "settled_after_minutes": round(settled, 1)}
    result.notes["rounds"] = rounds
    return result


async def tokenless_beside_worker(bench: Bench, rows: int) -> Figures:
    """A sender with no channels (``--role scheduler`` without tokens) runs beside the worker."""
    await bench.reset()
    arrivals, queued = Arrivals(), dict[str, int]()
    scheduler = bench.sender({}, name="scheduler")
    worker = bench.sender({PLATFORM: FaultyChannel(arrivals, bench.rng)}, name="worker")
    await bench.queue(queued, conversations(4), rows)
    await scheduler.drain()  # first, with every row due: it must leave them alone
    await bench.until_quiet([scheduler, worker])
    return arrivals.figures("tokenless_beside_worker", queued, await bench.count("parked"))


async def parked_then_retried(bench: Bench, rows: int) -> Figures:
    """Down past the retry limit: parked; back up; ``outbox retry``; everything delivered."""
    await bench.reset()
    arrivals, queued = Arrivals(), dict[str, int]()
    up = asyncio.Event()
    channel = FaultyChannel(arrivals, bench.rng, down=lambda: not up.is_set())
    policy = RetryPolicy(give_up_after=timedelta(hours=1))
    sender = bench.sender({PLATFORM: channel}, name="worker", policy=policy)
    # every row of a conversation waits its own hour once it is the head: keep this one small
    await bench.queue(queued, conversations(2), min(rows, 12))
    await bench.until_quiet([sender])
    parked = await bench.count("parked")
    up.set()
    async with bench.sessions.begin() as session:
        requeued = await requeue_parked(session, OutboxFilter(), bench.clock.now())
    await bench.until_quiet([sender])
    result = arrivals.figures("parked_then_retried", queued, await bench.count("parked"))
    result.notes = {"parked_before_retry": parked, "requeued": requeued}
    return result


Scenario = Callable[[Bench, int], Awaitable[Figures]]
SCENARIOS: dict[str, Scenario] = {
    "two_senders": two_senders,
    "outage": outage,
    "tokenless_beside_worker": tokenless_beside_worker,
    "parked_then_retried": parked_then_retried,
}


async def run_scenarios(
    database_url: str, rows: int, *, seed: int = 7, only: Sequence[str] = ()
) -> list[Figures]:
    await upgrade_database(database_url)
    engine = create_engine(database_url)
    try:
        bench = Bench(engine, FrozenClock(), seed)
        return [await SCENARIOS[name](bench, rows) for name in only or SCENARIOS]
    finally:
        await engine.dispose()


def main(
    database_url: str = typer.Option(..., "--database-url", help="A scratch database."),
    rows: int = typer.Option(240, help="Messages queued per scenario."),
    seed: int = typer.Option(7, help="Seeds conversation choice and latency."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Run every outbound fault scenario and print its figures."""
    logging.getLogger("bot").setLevel(logging.CRITICAL)  # the figures say what the log would
    figures = asyncio.run(run_scenarios(database_url, rows, seed=seed))
    if as_json:
        typer.echo(json.dumps([asdict(f) for f in figures], indent=2))
        return
    for f in figures:
        typer.echo(
            f"{f.scenario:<24} in {f.queued:>4} · delivered {f.delivered:>4} · lost {f.lost} · "
            f"duplicated {f.duplicated} · out of order {f.out_of_order} · parked {f.parked}"
        )


if __name__ == "__main__":
    typer.run(main)
