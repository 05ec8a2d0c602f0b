"""Fault run: ``kill -9`` at random moments under load, then a restart — is every inbound
handled exactly once, and in order?

::

    python -m benchmarks.faults_inbox --runs 10 --messages 400 --database-url postgresql://…

The parent opens one case for each of ``--conversations`` customers, then writes a plan of
``--messages`` lines: each customer's next line, or the agent's note in that case's thread,
numbered per case. A child process (``helpdesk run``'s start-up: recover, then adapters) is
fed the plan by a stand-in platform that, like a platform whose events were not acknowledged,
delivers every event again on each start; the inbox drops the copies. The parent SIGKILLs
the child at a random moment ``--runs`` times, restarts it, and lets the last one finish, then
stops it with SIGTERM. Every line lands in its case's transcript, so the figures come from the
database: lines in, handled, duplicated, lost, out of order (a line recorded after a later
line of the same case), and inbounds kept as failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bot.adapters.fake import FakeChannel
from bot.config import DeskConfig, QueueConfig, RoleMembers, Roles, Settings
from bot.dialogs.understanding import Understanding
from bot.messages import ChannelRef, Inbound, InboundHandler, InboundKind
from bot.storage.models import Case, CaseEvent, InboxMessage, SentRefRecord

LINE = re.compile(r"^c(\d+)-(\d+)$")
AGENT = "dana"
LEASE_SECONDS = 1.0  # a killed child's inbounds are taken over this soon after the restart


class PlanUnderstander:
    """No model: "human" asks for a person, anything else is a line for the open case."""

    async def understand(self, text: str) -> Understanding:
        intent = "human_handoff" if text == "human" else None
        return Understanding(
            intent=intent,
            confidence=0.95 if intent else 0.0,
            hit=None,
            unsupported_language=False,
        )

    def whole_article(self, slug: str) -> tuple[str, str] | None:
        return None  # no knowledge base in this run


def bench_desk() -> DeskConfig:
    return DeskConfig(
        roles=Roles(agents=RoleMembers(fake=[AGENT])),
        queues=[QueueConfig(name="default", channel="fake:agents")],
    )


def settings_for(database_url: str, data_dir: Path) -> Settings:
    return Settings(
        DATABASE_URL=database_url,
        HELPDESK_DATA_DIR=data_dir,
        HELPDESK_INBOX_LEASE_SECONDS=LEASE_SECONDS,
    )


# --- the parent


@dataclass(frozen=True)
class PlannedLine:
    event_id: str
    case: int
    seq: int
    channel: str
    user_id: str


async def open_cases(database_url: str, data_dir: Path, count: int) -> dict[int, tuple[str, str]]:
    """One case per customer; returns case number → (customer channel, agents' case thread)."""
    from bot.bootstrap import build_helpdesk

    helpdesk = await build_helpdesk(
        settings_for(database_url, data_dir),
        channels={"fake": FakeChannel()},
        understander=PlanUnderstander(),
        desk=bench_desk(),
    )
    try:
        for n in range(count):
            for k, text in enumerate(("human", f"customer {n} needs help")):
                inbound = Inbound(
                    kind=InboundKind.MESSAGE,
                    event_id=f"setup-{n}-{k}",
                    channel=ChannelRef("fake", f"dm-{n}"),
                    user_id=f"customer-{n}",
                    user_name=f"Customer {n}",
                    text=text,
                )
                await helpdesk.intake.receive(inbound)
        await helpdesk.sender.drain()
        async with helpdesk.sessions() as session:
            records = await session.scalars(
                select(SentRefRecord).where(SentRefRecord.key.like("case:%:post"))
            )
            threads = {int(r.key.split(":")[1]): r.ref for r in records}
            opened = (await session.execute(select(Case.id, Case.conversation))).all()
        if len(opened) != count:
            raise RuntimeError(f"set-up opened {len(opened)} cases of {count}")
        out: dict[int, tuple[str, str]] = {}
        for number, conversation in opened:
            ref = threads[number]
            out[number] = (
                conversation,
                f"fake:{ref['channel']}/{ref['thread'] or ref['message_id']}",
            )
        return out
    finally:
        await helpdesk.close()


def make_plan(
    cases: dict[int, tuple[str, str]], messages: int, rng: random.Random
) -> list[PlannedLine]:
    """Lines spread over the cases at random; one in four is the agent's note in the thread."""
    seqs: Counter[int] = Counter()
    plan: list[PlannedLine] = []
    numbers = sorted(cases)
    for n in range(messages):
        case = rng.choice(numbers)
        seqs[case] += 1
        customer, thread = cases[case]
        by_agent = rng.random() < 0.25
        plan.append(
            PlannedLine(
                event_id=f"line-{n}",
                case=case,
                seq=seqs[case],
                channel=thread if by_agent else customer,
                user_id=AGENT if by_agent else customer.replace("fake:dm-", "customer-"),
            )
        )
    return plan


async def settled(database_url: str, total: int) -> bool:
    """Every planned line stored and handled (done or failed)."""
    return await finished_lines(database_url) == total


async def finished_lines(database_url: str) -> int:
    from bot.storage.db import create_engine, session_factory

    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            finished = await session.scalar(
                select(func.count())
                .select_from(InboxMessage)
                .where(
                    InboxMessage.event_id.like("line-%"),
                    InboxMessage.status.in_(("done", "failed")),
                )
            )
        return int(finished or 0)
    finally:
        await engine.dispose()


async def figures(database_url: str, plan: Sequence[PlannedLine]) -> dict[str, int]:
    from bot.storage.db import create_engine, session_factory

    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            events = (
                await session.execute(
                    select(CaseEvent.case_id, CaseEvent.body).order_by(CaseEvent.id)
                )
            ).all()
            failed = await session.scalar(
                select(func.count())
                .select_from(InboxMessage)
                .where(InboxMessage.status == "failed")
            )
    finally:
        await engine.dispose()
    seen: Counter[tuple[int, int]] = Counter()
    highest: dict[int, int] = defaultdict(int)
    out_of_order = 0
    for case, body in events:
        match = LINE.match(body.strip())
        if match is None:
            continue
        seq = int(match.group(2))
        seen[(case, seq)] += 1
        if seq < highest[case]:
            out_of_order += 1
        highest[case] = max(highest[case], seq)
    planned = {(line.case, line.seq) for line in plan}
    return {
        "messages_in": len(plan),
        "handled": len(planned & set(seen)),
        "duplicated": sum(n - 1 for n in seen.values() if n > 1),
        "lost": len(planned - set(seen)),
        "out_of_order": out_of_order,
        "failed": int(failed or 0),
    }


async def feeding_started(acked: Path, child: subprocess.Popen[bytes]) -> None:
    """Until the child has taken new events from the platform (or 60 s)."""
    before = read_ack(acked)
    for _ in range(600):
        if read_ack(acked) != before or child.poll() is not None:
            return
        await asyncio.sleep(0.1)  # polling a starting process, not timing the fault


async def listening(marker: Path, child: subprocess.Popen[bytes]) -> None:
    """Until the child has its signal handlers in place (or 60 s)."""
    for _ in range(600):
        if is_file(marker) or child.poll() is not None:
            return
        await asyncio.sleep(0.1)  # polling a starting process, not timing the fault


def start_child(
    database_url: str, data_dir: Path, plan_file: Path, log: Any
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "benchmarks.faults_inbox",
            "child",
            "--database-url",
            database_url,
            "--data-dir",
            str(data_dir),
            "--plan",
            str(plan_file),
        ],
        stdout=log,
        stderr=log,
    )


async def run_faults(
    *, runs: int, messages: int, conversations: int, database_url: str, seed: int
) -> dict[str, Any]:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="faults-inbox-") as tmp:
        data_dir = Path(tmp)
        cases = await open_cases(database_url, data_dir, conversations)
        plan = make_plan(cases, messages, rng)
        plan_file = data_dir / "plan.json"
        plan_file.write_text(json.dumps([line.__dict__ for line in plan]), encoding="utf-8")
        started = time.monotonic()
        handled_at_kills: list[int] = []
        with (data_dir / "children.log").open("wb") as log:
            for _ in range(runs):
                child = start_child(database_url, data_dir, plan_file, log)
                if rng.random() < 0.25:  # the fault: kill -9 during start-up…
                    await asyncio.sleep(rng.uniform(0.5, 3.0))
                else:  # … or under load, once the platform is feeding it
                    await feeding_started(data_dir / "acked", child)
                    await asyncio.sleep(rng.uniform(0.1, 2.0))
                child.send_signal(signal.SIGKILL)
                child.wait()
                handled_at_kills.append(await finished_lines(database_url))
            child = start_child(database_url, data_dir, plan_file, log)
            # a signal that lands before Python has even set up its handlers kills any process;
            # the guarantee is about the help desk's own start-up, so wait until that has begun
            await listening(data_dir / f"listening-{child.pid}", child)
            deadline = time.monotonic() + 180
            while not await settled(database_url, len(plan)):
                if child.poll() is not None or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.5)  # polling a running process for completion
            child.send_signal(signal.SIGTERM)
            exit_code = child.wait(timeout=60)
        log_tail = (data_dir / "children.log").read_text(errors="replace")[-2000:]
        result: dict[str, Any] = {
            "runs_killed": runs,
            "handled_when_killed": handled_at_kills,
            "conversations": conversations,
            **await figures(database_url, plan),
            "last_exit_code": exit_code,
            "seconds": round(time.monotonic() - started, 1),
        }
        if exit_code != 0:
            result["log_tail"] = log_tail
        return result


# --- the child


class PlanChannel(FakeChannel):
    """A platform feeding the plan a little at a time. Like Telegram's update offset, it
    remembers (in ``acked``, which outlives the process) how far events were acknowledged, and
    on each start delivers again from a little before that point: events accepted just before
    a kill come again and the inbox must drop the copies."""

    REDELIVERED = 20

    def __init__(self, plan: list[dict[str, Any]], acked: Path) -> None:
        super().__init__(platform="fake")
        self._plan = plan
        self._acked = acked
        self._feeding: asyncio.Task[None] | None = None

    async def start(self, on_inbound: InboundHandler) -> None:
        await super().start(on_inbound)
        self._feeding = asyncio.create_task(self._feed(on_inbound))

    async def stop(self) -> None:
        if self._feeding is not None:
            self._feeding.cancel()
        await super().stop()

    async def _feed(self, on_inbound: InboundHandler) -> None:
        acked = read_ack(self._acked)
        for index in range(max(0, acked - self.REDELIVERED), len(self._plan)):
            line = self._plan[index]
            await on_inbound(
                Inbound(
                    kind=InboundKind.MESSAGE,
                    event_id=line["event_id"],
                    channel=ChannelRef.parse(line["channel"]),
                    user_id=line["user_id"],
                    user_name=line["user_id"].title(),
                    text=f"c{line['case']}-{line['seq']}",
                    is_direct=line["user_id"] != AGENT,
                )
            )
            if index + 1 > acked:  # accepted (stored): the platform may forget it
                acked = index + 1
                write_ack(self._acked, acked)
            await asyncio.sleep(0.002)  # a steady stream rather than one burst


def is_file(path: Path) -> bool:
    return path.is_file()


def read_ack(path: Path) -> int:
    try:
        return int(path.read_text(encoding="utf-8") or 0)
    except (FileNotFoundError, ValueError):
        return 0


def write_ack(path: Path, offset: int) -> None:
    path.write_text(str(offset), encoding="utf-8")


async def child(database_url: str, data_dir: Path, plan: list[dict[str, Any]]) -> None:
    from bot.bootstrap import build_helpdesk
    from bot.cli.run import ProcessRole, _stop_on_signals, serve

    stop = _stop_on_signals()
    (data_dir / f"listening-{os.getpid()}").touch()
    helpdesk = await build_helpdesk(
        settings_for(database_url, data_dir),
        channels={"fake": PlanChannel(plan, data_dir / "acked")},
        understander=PlanUnderstander(),
        desk=bench_desk(),
    )
    await serve(helpdesk, ProcessRole.WORKER, stop)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.faults_inbox", description=__doc__)
    parser.add_argument("mode", nargs="?", default="parent", choices=["parent", "child"])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--runs", type=int, default=5, help="how many times to kill -9")
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--conversations", type=int, default=8)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--plan", type=Path)
    args = parser.parse_args(argv)
    if args.mode == "child":
        plan = json.loads(args.plan.read_text(encoding="utf-8"))
        asyncio.run(child(args.database_url, args.data_dir, plan))
        return 0
    result = asyncio.run(
        run_faults(
            runs=args.runs,
            messages=args.messages,
            conversations=args.conversations,
            database_url=args.database_url,
            seed=args.seed,
        )
    )
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.exit(main())
