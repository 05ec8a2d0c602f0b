"""The help desk's Prometheus metrics, defined once, here (README "Metrics" lists them).

Two kinds:

- **events of this process** — counters and histograms bumped where the thing happens, after
  its transaction commits (an inbound stored, a case claimed, an SLA breach announced). Each
  process counts what it did itself; Prometheus adds them up across processes (``sum``).
- **the database's state** — gauges read from the database when ``/metrics`` is scraped
  (outbox depth, parked rows, failed inbounds, assumed deflections): the same figure from
  every process that serves it, whichever process did the work (``max``, never ``sum``).

The metrics live in their own registry, not prometheus-client's global one, so what
``/metrics`` shows is exactly this list. Importing this module costs prometheus-client only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from bot.events import CaseClaimed, CaseOpened, CaseResolved, Event

REGISTRY = CollectorRegistry(auto_describe=True)
CONTENT_TYPE = CONTENT_TYPE_LATEST

INBOUND = Counter(
    "helpdesk_inbound_messages",
    "Inbounds stored (redeliveries not counted), by platform and kind "
    "(message, action, form, command).",
    ["platform", "kind"],
    registry=REGISTRY,
)
ANSWER_SECONDS = Histogram(
    "helpdesk_answer_seconds",
    "Time from taking a stored inbound to committing its answer, by side (customer, agent).",
    ["side"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
    registry=REGISTRY,
)
ENCODER_BATCH = Histogram(
    "helpdesk_encoder_batch_size",
    "Texts per encoder call (concurrent messages share one call).",
    buckets=(1, 2, 4, 8, 16, 32, 64),
    registry=REGISTRY,
)
INBOX_FAILURES = Counter(
    "helpdesk_inbox_failures",
    "Inbounds whose handling failed: outcome=retry (tried again later) or outcome=failed "
    "(kept as failed after the last attempt; see helpdesk inbox list).",
    ["outcome"],
    registry=REGISTRY,
)
OUTBOX_SENDS = Counter(
    "helpdesk_outbox_sends",
    "Outbox delivery attempts by outcome: sent, retry (a retryable failure, tried again "
    "later) or parked (given up on; see helpdesk outbox list).",
    ["platform", "outcome"],
    registry=REGISTRY,
)
CASES = Counter(
    "helpdesk_cases",
    "Case events committed: opened, claimed, resolved.",
    ["event"],
    registry=REGISTRY,
)
SLA_ALERTS = Counter(
    "helpdesk_sla_alerts",
    "SLA alerts announced, by stage (warning, breach) and target (first_response, resolution).",
    ["stage", "target"],
    registry=REGISTRY,
)
DEFLECTIONS_CONFIRMED = Counter(
    "helpdesk_deflections_confirmed",
    "Suggested articles the customer marked helpful.",
    registry=REGISTRY,
)
ADAPTER_RECONNECTS = Counter(
    "helpdesk_adapter_reconnects",
    "Connections to a platform re-established after a drop, by platform.",
    ["platform"],
    registry=REGISTRY,
)

OUTBOX_DEPTH = Gauge(
    "helpdesk_outbox_depth",
    "Outbox rows waiting to go out (database-wide, read at scrape time).",
    registry=REGISTRY,
)
OUTBOX_PARKED = Gauge(
    "helpdesk_outbox_parked",
    "Outbox rows given up on, waiting for helpdesk outbox retry (database-wide).",
    registry=REGISTRY,
)
INBOX_FAILED = Gauge(
    "helpdesk_inbox_failed",
    "Inbounds kept as failed, waiting for helpdesk inbox retry (database-wide).",
    registry=REGISTRY,
)
DATABASE_READ = Gauge(
    "helpdesk_metrics_database_read",
    "1 when this scrape read the database-wide gauges, 0 when the database did not answer "
    "(those gauges then show their last value).",
    registry=REGISTRY,
)
DEFLECTIONS_ASSUMED = Gauge(
    "helpdesk_deflections_assumed",
    "Suggestions left unanswered with no case and no 'not helpful' in that conversation "
    "within 24 h, all time (database-wide; the digest's definition).",
    registry=REGISTRY,
)

_CASE_EVENTS: dict[type[Event], str] = {
    CaseOpened: "opened",
    CaseClaimed: "claimed",
    CaseResolved: "resolved",
}


def count_case_events(events: Iterable[Event]) -> None:
    """Count the case events of a transaction that has just committed."""
    for event in events:
        name = _CASE_EVENTS.get(type(event))
        if name is not None:
            CASES.labels(event=name).inc()


@dataclass(frozen=True)
class DatabaseFigures:
    """What the gauges show, as read from the database at scrape time."""

    outbox_depth: int
    outbox_parked: int
    inbox_failed: int
    deflections_assumed: int


def exposition(figures: DatabaseFigures | None) -> bytes:
    """The text ``/metrics`` answers: the gauges set from ``figures`` (left as they were when
    the database could not be read), then every metric of the registry."""
    DATABASE_READ.set(figures is not None)
    if figures is not None:
        OUTBOX_DEPTH.set(figures.outbox_depth)
        OUTBOX_PARKED.set(figures.outbox_parked)
        INBOX_FAILED.set(figures.inbox_failed)
        DEFLECTIONS_ASSUMED.set(figures.deflections_assumed)
    return generate_latest(REGISTRY)
