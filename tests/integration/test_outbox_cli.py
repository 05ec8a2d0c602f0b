"""``helpdesk outbox list|retry|drop`` and the counts in ``helpdesk config show``, as the real
processes an operator runs against the database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import FrozenClock
from bot.messages import ChannelRef, Outbound
from bot.storage.models import OutboxMessage
from bot.storage.outbox import new_row


def helpdesk(url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "helpdesk.yml"
    config.touch()  # empty: the defaults, not the checkout's file
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "HELPDESK_DATA_DIR": str(tmp_path / "data"),
        "HELPDESK_CONFIG": str(config),
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )


async def seed(sessions: async_sessionmaker[AsyncSession], clock: FrozenClock) -> None:
    """Two parked messages (one an agent's reply to case 4) and one still pending."""
    rows = [
        new_row(
            Outbound(channel=ChannelRef.parse("telegram:42"), text="Your refund went out."),
            clock.now(),
            notify={"channel": "slack:C1", "thread_key": "case:4:post", "failed": "…"},
        ),
        new_row(Outbound(channel=ChannelRef.parse("slack:D9"), text="Case resolved"), clock.now()),
        new_row(Outbound(channel=ChannelRef.parse("slack:D9"), text="Thanks!"), clock.now()),
    ]
    rows[0].status = rows[1].status = "parked"
    rows[0].last_error = "503 service unavailable"
    rows[0].attempts = 7
    async with sessions.begin() as s:
        s.add_all(rows)


async def rows(sessions: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    async with sessions() as s:
        return list(await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_an_operator_lists_retries_and_drops_parked_messages(
    migrated_url: str,
    sessions: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
    tmp_path: Path,
) -> None:
    await seed(sessions, clock)

    shown = helpdesk(migrated_url, tmp_path, "config", "show", "--json")
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert json.loads(shown.stdout)["backlog"]["outbox"] == {"pending": 1, "parked": 2}
    text = helpdesk(migrated_url, tmp_path, "config", "show").stdout
    assert "1 pending · 2 parked" in text

    listed = helpdesk(migrated_url, tmp_path, "outbox", "list", "--status", "parked", "--json")
    assert listed.returncode == 0, listed.stderr[-2000:]
    parked = json.loads(listed.stdout)
    assert [(r["conversation"], r["for_case"]) for r in parked] == [
        ("telegram:42", 4),
        ("slack:D9", None),
    ]
    assert parked[0]["last_error"] == "503 service unavailable"
    only_slack = helpdesk(migrated_url, tmp_path, "outbox", "list", "--platform", "slack").stdout
    assert "Case resolved" in only_slack and "Thanks!" in only_slack and "refund" not in only_slack

    retried = helpdesk(
        migrated_url, tmp_path, "outbox", "retry", "--conversation", "telegram:42", "--json"
    )
    assert retried.returncode == 0, retried.stderr[-2000:]
    assert json.loads(retried.stdout) == {"requeued": 1}
    refund = (await rows(sessions))[0]
    assert (refund.status, refund.attempts, refund.failing_since) == ("pending", 0, None)

    refused = helpdesk(migrated_url, tmp_path, "outbox", "drop")
    assert refused.returncode == 2 and "--all" in refused.stderr
    dropped = helpdesk(migrated_url, tmp_path, "outbox", "drop", "--all", "--by", "ops-ana")
    assert dropped.returncode == 0 and "1 parked message dropped." in dropped.stdout
    statuses = [(r.status, r.last_error or "") for r in await rows(sessions)]
    assert [s for s, _ in statuses] == ["pending", "dropped", "pending"]
    assert statuses[1][1].startswith("dropped by ops-ana at ")  # kept, with who and when
