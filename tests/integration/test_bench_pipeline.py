"""``helpdesk bench pipeline``, tiny: the real pipeline (inbox, intake, dialog engine with the real
encoder and intent model, cases, outbox) under a handful of customers. No timing is asserted;
what is asserted is the report's shape and that every customer was answered and every inbound
handled exactly once."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.pipeline import run_pipeline

pytestmark = pytest.mark.model


async def test_a_tiny_run_answers_every_customer_once_and_reports_every_figure(
    database_url: str, e2e_data_dir: Path
) -> None:
    report = await run_pipeline(
        database_url=database_url,
        data_dir=e2e_data_dir,
        customers=6,
        rate=20,
        rate_messages=4,
        warmup=2,
        encoder_texts=(3, 1),
    )
    saturated, offered = report["saturation"], report["offered_rate"]
    assert (saturated["answered"], offered["answered"]) == (6, 4)
    assert report["exactly_once"] == {
        "inbound": 10,
        "handled_first_attempt": 10,
        "not_done": 0,
        "outbox_rows": report["exactly_once"]["delivered"],
        "outbox_unsent": 0,
        "delivered": report["exactly_once"]["delivered"],
        "arrivals_refused": 0,
    }
    # one customer in four asks for a person: the agents are told, so more rows than customers
    assert report["exactly_once"]["delivered"] > 10
    for phase in (saturated, offered):
        assert set(phase["latency_ms"]) == {"p50", "p95", "p99", "max"}
        assert phase["db_statements_per_message"] > 0
        assert phase["db_transactions_per_message"] > 0
        assert phase["db_ms_per_message"] > 0
        # the event loop's thread is part of the process
        assert 0 < phase["loop_cpu_ms_per_message"] <= phase["cpu_ms_per_message"]
    assert saturated["messages_per_s"] > 0 and saturated["ratio_to_encoder_limit"] > 0
    assert set(report["encoder"]) == {
        "encoder",
        "batch_1_texts_per_s",
        "batch_1_ms_p50",
        "batch_32_texts_per_s",
        "batch_32_cpu_ms_per_text",
    }
    assert report["peak_rss_mb"] > 0
    assert report["database"] == ("sqlite" if database_url.startswith("sqlite") else "postgresql")
