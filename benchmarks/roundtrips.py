"""Database round trips per customer message, by kind of message.

    helpdesk bench roundtrips [--database-url URL]

A new customer's greeting, a question the knowledge base answers, a request for a person (a case
opens and the agents' channel is told), and a returning customer's second question, each sent
alone through what ``helpdesk run`` runs (the adapter's ``on_inbound``, the intake, the dialog
engine, the outbox sender), with the real encoder, intent model and bundled articles. For each:
database statements and transactions (commits), counted by SQLAlchemy cursor and commit events
on the help desk's engine, split into *handling* (storing the arrival, claiming it, the one
transaction that holds the dialog, case, outbox rows and the inbox's "done" mark) and
*delivery* (the outbox sender's work for the rows it wrote, running as in ``helpdesk run``).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from benchmarks.pipeline import bench_desk, database_kind, prepare_data_dir
from bot.adapters.fake import FakeChannel
from bot.config import Settings
from bot.messages import ChannelRef, Inbound, InboundKind

# (kind, text, same customer as the message before)
MESSAGES: tuple[tuple[str, str, bool], ...] = (
    ("greeting", "hello there", False),
    ("answer", "how do I reset my password?", False),
    ("answer, returning customer", "how long does shipping take?", True),
    ("handoff", "I need to talk to a person: my hub will not connect to the wifi", False),
)


@dataclass
class Transactions:
    """Statements on an engine, grouped per connection into what each transaction ran: a
    commit closes a group (``commits``), and so do a rollback or the connection's return to
    the pool (``reads``: what ran outside any commit)."""

    statements: int = 0
    commits: list[list[str]] = field(default_factory=list)
    reads: list[list[str]] = field(default_factory=list)
    _open: dict[int, list[str]] = field(default_factory=dict)

    def _statement(self, conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.statements += 1
        key = id(conn.connection.dbapi_connection)
        self._open.setdefault(key, []).append(" ".join(statement.split())[:60])

    def _commit(self, conn: Any) -> None:
        self.commits.append(self._open.pop(id(conn.connection.dbapi_connection), []))

    def _rollback(self, conn: Any) -> None:
        self._close(id(conn.connection.dbapi_connection))

    def _returned(self, dbapi_connection: Any, *_: Any) -> None:
        self._close(id(dbapi_connection))

    def _close(self, key: int) -> None:
        statements = self._open.pop(key, [])
        if statements:
            self.reads.append(statements)

    @contextmanager
    def watching(self, engine: AsyncEngine) -> Iterator[None]:
        sync = engine.sync_engine
        hooks: list[tuple[Any, str, Callable[..., None]]] = [
            (sync, "before_cursor_execute", self._statement),
            (sync, "commit", self._commit),
            (sync, "rollback", self._rollback),
            (sync.pool, "reset", self._returned),
        ]
        for target, name, hook in hooks:
            event.listen(target, name, hook)
        try:
            yield
        finally:
            for target, name, hook in hooks:
                event.remove(target, name, hook)


def is_delivery(statements: list[str]) -> bool:
    """The sender's work: it touches the outbox and never the inbox (the handling transaction
    writes outbox rows, and takes their lease, together with the inbox's "done" mark)."""
    return not any("inbox" in s for s in statements) and any("outbox" in s for s in statements)


def split(groups: list[list[str]]) -> tuple[list[list[str]], list[list[str]]]:
    """(handling, delivery)."""
    return [g for g in groups if not is_delivery(g)], [g for g in groups if is_delivery(g)]


async def count_message(helpdesk: Any, channel: FakeChannel, inbound: Inbound) -> dict[str, Any]:
    """Send one inbound as its adapter would, with the outbox sender running as in ``helpdesk
    run`` (it delivers what a transaction queued at once), until it is handled and every reply
    delivered; the round trips of each part."""
    assert channel.on_inbound is not None
    seen = Transactions()
    with seen.watching(helpdesk.engine):
        await channel.on_inbound(inbound)
        await helpdesk.intake.wait_idle()
        await helpdesk.sender.wait_direct()
    handling, delivery = split(seen.commits)
    handling_reads, delivery_reads = split(seen.reads)

    def statements(*groups: list[list[str]]) -> int:
        return sum(len(g) for part in groups for g in part)

    figures = {
        "handling": {
            "statements": statements(handling, handling_reads),
            "transactions": len(handling),
        },
        "delivery": {
            "statements": statements(delivery, delivery_reads),
            "transactions": len(delivery),
        },
    }
    return {
        **figures,
        "total": {
            "statements": seen.statements,
            "transactions": len(seen.commits),
        },
        "replies_delivered": len(channel.sent),
        # what each handling transaction ran: the work and the inbox's mark commit together
        "handling_transactions": handling,
        "delivery_transactions": delivery,
    }


async def run_roundtrips(
    *, database_url: str | None, data_dir: Path, helpdesk_factory: Any = None
) -> dict[str, Any]:
    """Every message of ``MESSAGES`` through a fresh help desk; ``helpdesk_factory`` (tests)
    builds it instead of the real models."""
    from bot.bootstrap import build_helpdesk, start_channels

    logging.getLogger("bot").setLevel(logging.WARNING)
    prepare_data_dir(data_dir)
    scratch = None if database_url else Path(tempfile.mkdtemp(prefix="bench-roundtrips-"))
    url = database_url or f"sqlite:///{Path(str(scratch)) / 'helpdesk.db'}"
    settings = Settings(DATABASE_URL=url, HELPDESK_DATA_DIR=data_dir)
    channel = FakeChannel()
    build = helpdesk_factory or build_helpdesk
    helpdesk = await build(settings, channels={"fake": channel}, desk=bench_desk())
    kinds: list[dict[str, Any]] = []
    sending = asyncio.create_task(helpdesk.sender.run())  # delivering as ``helpdesk run`` does
    try:
        await start_channels(helpdesk)
        customer, run = 0, uuid.uuid4().hex[:8]  # a reused database has earlier runs' events
        for n, (kind, text, same_customer) in enumerate(MESSAGES):
            customer += 0 if same_customer else 1
            channel.sent.clear()
            inbound = Inbound(
                kind=InboundKind.MESSAGE,
                event_id=f"roundtrips-{run}-{n}",
                channel=ChannelRef("fake", f"customer-{run}-{customer}"),
                user_id=f"customer-{run}-{customer}",
                user_name=f"Customer {customer}",
                text=text,
                is_direct=True,
            )
            kinds.append({"kind": kind, **await count_message(helpdesk, channel, inbound)})
    finally:
        helpdesk.sender.stop()
        await sending
        await helpdesk.close()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    return {
        "name": f"roundtrips-{database_kind(url)}",
        "database": database_kind(url),
        "kinds": kinds,
    }
