"""The real ``helpdesk db seed --demo`` and ``helpdesk digest --now`` processes on a SQLite file:
the digest is printed, the chart written, and the same seed gives the same history."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.clock import FrozenClock
from bot.config import DeskConfig
from bot.escalation import sla
from bot.escalation.calendar import BusinessCalendar
from bot.escalation.sla_clock import CaseSlaClock
from bot.reports.digest import build_digest
from bot.reports.seed import seed_demo
from bot.storage.db import create_engine, session_factory
from bot.storage.migrate import upgrade_database
from bot.storage.uow import UnitOfWork

UNTIL = "2026-11-23T00:00:00+00:00"
AS_OF = "2026-11-23T09:00:00+00:00"


def helpdesk(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "helpdesk.yml").touch()  # empty: the defaults, not the checkout's file
    env = {
        **os.environ,
        "HELPDESK_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
        "HELPDESK_CONFIG": str(tmp_path / "helpdesk.yml"),
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
    )


def is_png(path: Path) -> bool:
    return path.exists() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


async def test_seeded_database_digest_printed_with_chart_and_reproducible(
    tmp_path: Path,
) -> None:
    seeded = helpdesk(tmp_path, "db", "seed", "--demo", "--seed", "3", "--until", UNTIL, "--json")
    assert seeded.returncode == 0, seeded.stderr[-2000:]
    summary = json.loads(seeded.stdout)
    assert 200 <= summary["cases"] <= 400 and summary["start"].startswith("2026-09-28")

    again = helpdesk(tmp_path, "db", "seed", "--demo", "--seed", "3", "--until", UNTIL)
    assert again.returncode == 1 and "already has cases" in again.stderr

    chart = tmp_path / "out" / "week.png"
    shown = helpdesk(
        tmp_path, "digest", "--now", "--period", "week", "--as-of", AS_OF, "--chart", str(chart)
    )
    assert shown.returncode == 0, shown.stderr[-2000:]
    lines = shown.stdout.splitlines()
    assert lines[0] == "Weekly digest — week 47, 16 Nov – 22 Nov 2026 (UTC)"
    assert lines[1].startswith("Cases: ") and lines[2].startswith("Open at the end: ")
    assert any(line.startswith("CSAT: ") for line in lines)
    assert lines[-2] == "How each figure is counted: helpdesk digest --explain"
    assert lines[-1] == f"Chart: {chart}"
    assert is_png(chart)

    as_json = helpdesk(tmp_path, "digest", "--now", "--period", "week", "--as-of", AS_OF, "--json")
    assert as_json.returncode == 0, as_json.stderr[-2000:]
    payload = json.loads(as_json.stdout)
    metrics = payload["metrics"]
    assert payload["key"] == "2026-W47" and is_png(Path(payload["chart"]))
    assert lines[1].startswith(f"Cases: {metrics['opened']} opened (")
    assert f" · {metrics['resolved']} resolved (" in lines[1]
    assert [day["day"] for day in metrics["days"]] == [f"2026-11-{d}" for d in range(16, 23)]
    assert sum(day["opened"] for day in metrics["days"]) == metrics["opened"]
    deflection = metrics["deflection"]
    assert deflection["shown"] == sum(
        deflection[k] for k in ("confirmed", "not_helpful", "escalated", "assumed", "undecided")
    )

    # The same seed in another database gives the same figures.
    url = f"sqlite:///{tmp_path / 'again.db'}"
    await upgrade_database(url)
    engine = create_engine(url)
    desk = DeskConfig()
    calendar = BusinessCalendar.from_config(desk.business_hours)
    until = datetime.fromisoformat(UNTIL)
    try:
        sessions = session_factory(engine)
        async with UnitOfWork(sessions, FrozenClock(until)) as uow:
            await seed_demo(
                uow,
                until=until,
                seed=3,
                due_times=lambda c: sla.start_clock(c, desk.sla, calendar, c.created_at),
            )
            await uow.commit()
        as_of = datetime.fromisoformat(AS_OF).astimezone(UTC)
        async with UnitOfWork(sessions, FrozenClock(as_of)) as uow:
            twin = await build_digest(uow, "week", as_of, "UTC", sla=CaseSlaClock.of(desk))
    finally:
        await engine.dispose()
    assert twin.metrics.to_dict() == metrics
