"""The outbound fault scenarios of ``benchmarks/faults_outbox.py``, run small: each inflicts
one fault and the figures that must be 0 are 0.

``python -m benchmarks.faults_outbox --database-url … --json`` runs them at full size."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from benchmarks import faults_outbox
from benchmarks.faults_outbox import Figures, main, run_scenarios


async def scenario(url: str, name: str, rows: int) -> Figures:
    (figures,) = await run_scenarios(url, rows, only=[name])
    return figures


def assert_nothing_lost_twice_or_late(f: Figures) -> None:
    assert (f.delivered, f.lost, f.duplicated, f.out_of_order, f.parked) == (f.queued, 0, 0, 0, 0)


async def test_two_senders_with_random_latency_deliver_each_conversation_in_order(
    migrated_url: str,
) -> None:
    """Several senders are a PostgreSQL deployment; on SQLite two must still be correct."""
    figures = await scenario(migrated_url, "two_senders", 120)
    assert figures.queued == 120
    assert_nothing_lost_twice_or_late(figures)


async def test_a_ten_minute_outage_delays_but_loses_and_reorders_nothing(migrated_url: str) -> None:
    figures = await scenario(migrated_url, "outage", 40)
    assert_nothing_lost_twice_or_late(figures)
    # delivered within one capped retry (five minutes) of the platform coming back
    assert 10 <= figures.notes["settled_after_minutes"] <= 15


async def test_a_process_without_tokens_beside_a_worker_parks_nothing(migrated_url: str) -> None:
    assert_nothing_lost_twice_or_late(await scenario(migrated_url, "tokenless_beside_worker", 40))


async def test_outbox_retry_delivers_rows_parked_during_an_outage(migrated_url: str) -> None:
    figures = await scenario(migrated_url, "parked_then_retried", 6)
    assert figures.notes["parked_before_retry"] == figures.queued == 6
    assert_nothing_lost_twice_or_late(figures)


def test_the_runner_prints_figures_as_json(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(faults_outbox, "SCENARIOS", {"outage": faults_outbox.SCENARIOS["outage"]})
    import typer

    app = typer.Typer()
    app.command()(main)
    result = CliRunner().invoke(
        app, ["--database-url", f"sqlite:///{tmp_path}/faults.db", "--rows", "8", "--json"]
    )
    assert result.exit_code == 0, result.output
    (outage,) = json.loads(result.output)
    assert (outage["scenario"], outage["queued"], outage["lost"]) == ("outage", 8, 0)
