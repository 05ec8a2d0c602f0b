"""The web chat load benchmark's script runs end to end on a few sessions: the product's own
``helpdesk run --role web`` in a process of its own, visitors over WebSockets, every session's
log replayed. Only that the script works and counts right is asserted, never a timing (the
figures are in docs/benchmarks.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.widget_load import run_widget_load

# the web process may train the intent model into the shared data directory first
pytestmark = pytest.mark.timeout(600)


async def test_a_few_sessions_are_all_answered_with_nothing_lost_or_repeated(
    e2e_data_dir: Path, tmp_path: Path
) -> None:
    figures = await run_widget_load(
        sessions=3,
        messages=2,
        database_url=f"sqlite:///{tmp_path / 'load.db'}",
        data_dir=e2e_data_dir,
        progress=lambda _line: None,
    )
    assert figures["questions"] == 6
    assert figures["answered"] == 6
    assert figures["lost"] == 0 and figures["duplicated"] == 0 and figures["late"] == 0
    assert set(figures["answer_ms"]) >= {"p50", "p95", "p99"}
