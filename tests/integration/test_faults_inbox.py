"""The kill -9 fault run, small: child processes fed a stream of customer lines and agents'
notes are SIGKILLed at random moments and restarted; every line must land in its case's
transcript exactly once and in order (``benchmarks/faults_inbox.py`` runs it large)."""

from __future__ import annotations

from benchmarks.faults_inbox import run_faults


async def test_kill_9_at_random_moments_loses_duplicates_and_reorders_nothing(
    database_url: str,
) -> None:
    result = await run_faults(
        runs=2, messages=60, conversations=4, database_url=database_url, seed=3
    )
    assert result["last_exit_code"] == 0, result.get("log_tail")
    figures = {k: result[k] for k in ("handled", "duplicated", "lost", "out_of_order", "failed")}
    assert figures == {"handled": 60, "duplicated": 0, "lost": 0, "out_of_order": 0, "failed": 0}
