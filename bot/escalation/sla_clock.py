"""A case's SLA due times, derived from its history by one pure function.

Every change to a case — opening, waiting on the customer and their answer, resolution,
closing, reopening, a new priority, a transfer to another queue — is a line of its audit trail.
``due_times`` folds those lines into the due times, so whatever happened and in whatever order,
the result is the same as if the case had been recomputed from scratch:

- Each target is a budget of business time. It is spent only while the clock runs: the case is
  new or open. Waiting on the customer (pending), resolved and closed spend nothing.
- The first-response budget starts at the opening; the resolution budget starts at the opening
  and starts over at each reopen (a reopen is a new piece of work, with a fresh target).
- The budget's size is the target of the case's *current* queue and priority, applied to the
  time already spent: a case raised from normal to high after a day on the customer's side is
  due one business hour after it opened, counting only the time it was with us.
- A budget spent before a pause stays spent: the due time is then in the past (a breach).
- While the clock is stopped the due time shown is the one it would have if it restarted at the
  stop, which is what it becomes if the customer answers at once.

``history_from_events`` reads the audit trail (``case_events`` rows) into that history.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.config import DeskConfig, SlaConfig
from bot.escalation.calendar import BusinessCalendar
from bot.storage.models import Case, CaseEvent

OPENED = "opened"
PAUSED = "paused"  # pending on the customer
RESUMED = "resumed"  # back with us: the customer answered, or an agent claimed it
RESOLVED = "resolved"
CLOSED = "closed"
REOPENED = "reopened"
RETARGETED = "retargeted"  # a new priority or queue
UNCLAIMED = "unclaimed"  # back in a queue without a holder (release, transfer to a queue)
CLAIMED = "claimed"  # someone holds it (claim, transfer to an agent)


@dataclass(frozen=True)
class ClockEvent:
    at: datetime
    kind: str
    queue: str | None = None  # OPENED, RETARGETED: the queue from now on (None: unchanged)
    priority: str | None = None  # OPENED, RETARGETED: the priority from now on


@dataclass(frozen=True)
class DueTimes:
    first_response_due_at: datetime | None
    resolution_due_at: datetime | None
    paused_at: datetime | None  # the clock waits on the customer since (None otherwise)
    paused_seconds: int  # wall-clock seconds spent waiting on the customer, all pauses
    unclaimed_since: datetime | None  # in its queue without a holder since (None: held)
    resolution_since: datetime | None = None  # the resolution target counts from (open, reopen)


@dataclass
class _Budget:
    """The spans of time a target's clock ran, oldest first (the last may still be running)."""

    runs: list[tuple[datetime, datetime | None]] = field(default_factory=list)

    def start(self, at: datetime) -> None:
        if not self.runs or self.runs[-1][1] is not None:
            self.runs.append((at, None))

    def stop(self, at: datetime) -> None:
        if self.runs and self.runs[-1][1] is None:
            self.runs[-1] = (self.runs[-1][0], at)

    def due(self, seconds: float, calendar: BusinessCalendar) -> datetime | None:
        """The instant the ``seconds`` of business time run out, running on after the last
        span if they have not (from its end when stopped: "if it restarted now")."""
        if not self.runs:
            return None
        left = seconds
        for begin, end in self.runs:
            if end is None:
                return calendar.add(begin, left)
            spent = calendar.seconds_between(begin, end)
            if left <= spent:
                return calendar.add(begin, left)
            left -= spent
        return calendar.add(self.runs[-1][1] or self.runs[-1][0], left)


def due_times(
    history: Sequence[ClockEvent], sla: SlaConfig, calendar: BusinessCalendar
) -> DueTimes:
    """The due times after ``history`` (oldest first) under ``sla`` and ``calendar``."""
    queue, priority = "default", "normal"
    first_response, resolution = _Budget(), _Budget()
    running = False
    paused_at: datetime | None = None
    paused_seconds = 0.0
    unclaimed_since: datetime | None = None
    opened = False

    def run(at: datetime) -> None:
        nonlocal running, paused_at, paused_seconds
        if paused_at is not None:
            paused_seconds += (at - paused_at).total_seconds()
            paused_at = None
        running = True
        first_response.start(at)
        resolution.start(at)

    def stop(at: datetime) -> None:
        nonlocal running
        running = False
        first_response.stop(at)
        resolution.stop(at)

    for event in history:
        if event.kind == OPENED:
            opened = True
            queue = event.queue or queue
            priority = event.priority or priority
            unclaimed_since = event.at
            run(event.at)
        elif not opened:
            continue
        elif event.kind == PAUSED and running:
            stop(event.at)
            paused_at = event.at
        elif event.kind == RESUMED and paused_at is not None:
            run(event.at)
        elif event.kind in (RESOLVED, CLOSED):
            if paused_at is not None:  # the wait on the customer ends with the case
                paused_seconds += (event.at - paused_at).total_seconds()
                paused_at = None
            stop(event.at)
        elif event.kind == REOPENED:
            paused_at = None
            resolution.runs.clear()  # a fresh resolution target, from the reopen
            run(event.at)
        elif event.kind == RETARGETED:
            queue = event.queue or queue
            priority = event.priority or priority
        elif event.kind == UNCLAIMED:
            unclaimed_since = event.at
        elif event.kind == CLAIMED:
            unclaimed_since = None
    if not opened:
        return DueTimes(None, None, None, 0, None)
    target = sla.target(queue, priority)
    return DueTimes(
        first_response_due_at=first_response.due(target.first_response_hours * 3600, calendar),
        resolution_due_at=resolution.due(target.resolution_hours * 3600, calendar),
        paused_at=paused_at,
        paused_seconds=int(paused_seconds),
        unclaimed_since=unclaimed_since,
        resolution_since=resolution.runs[0][0] if resolution.runs else None,
    )


# --- reading the audit trail ------------------------------------------------------------------

# ``case_events.kind`` values (bot.cases.transcript.EventKind; this layer does not import it)
_STATUS_CHANGE, _REOPEN, _PRIORITY, _TRANSFER = "status_change", "reopen", "priority", "transfer"
_CLAIM, _RELEASE = "claim", "release"


def history_from_events(case: Case, events: Iterable[CaseEvent]) -> list[ClockEvent]:
    """The clock's history of ``case`` from its audit trail (oldest first). The opening line
    carries the queue and priority it opened with; for cases opened before it did, they are
    read back from the first priority change and queue transfer (or the case as it is now)."""
    rows = sorted(events, key=lambda e: (e.created_at, e.id or 0))
    history: list[ClockEvent] = []
    for row in rows:
        data = row.data or {}
        match row.kind:
            case "status_change":
                history.extend(_status_change(row, data))
            case "reopen":
                history.append(ClockEvent(row.created_at, REOPENED))
                if data.get("to") == "new":
                    history.append(ClockEvent(row.created_at, UNCLAIMED))
            case "priority":
                history.append(ClockEvent(row.created_at, RETARGETED, priority=row.body))
            case "transfer" if data.get("queue"):
                history.append(ClockEvent(row.created_at, RETARGETED, queue=str(data["queue"])))
                history.append(ClockEvent(row.created_at, UNCLAIMED))
            case "transfer" if data.get("agent"):
                history.append(ClockEvent(row.created_at, CLAIMED))
            case "claim":  # claiming puts a pending case back to open: the clock runs
                history.append(ClockEvent(row.created_at, RESUMED))
                history.append(ClockEvent(row.created_at, CLAIMED))
            case "release":
                history.append(ClockEvent(row.created_at, UNCLAIMED))
    return _with_opening_targets(case, rows, history)


def _status_change(row: CaseEvent, data: dict[str, object]) -> list[ClockEvent]:
    to = data.get("to")
    if row.body == "opened":
        queue, priority = data.get("queue"), data.get("priority")
        return [
            ClockEvent(
                row.created_at,
                OPENED,
                queue=str(queue) if queue else None,
                priority=str(priority) if priority else None,
            )
        ]
    if to == "pending":
        return [ClockEvent(row.created_at, PAUSED)]
    if to in ("new", "open"):
        return [ClockEvent(row.created_at, RESUMED)]
    if to == "resolved":
        return [ClockEvent(row.created_at, RESOLVED)]
    if to == "closed":
        return [ClockEvent(row.created_at, CLOSED)]
    return []


def _with_opening_targets(
    case: Case, rows: Sequence[CaseEvent], history: list[ClockEvent]
) -> list[ClockEvent]:
    opening = next((e for e in history if e.kind == OPENED), None)
    if opening is None:  # no opening line (a case from before the audit trail): its creation
        opening = ClockEvent(case.created_at, OPENED)
        history.insert(0, opening)
    if opening.queue and opening.priority:
        return history
    first_priority = next((r for r in rows if r.kind == _PRIORITY), None)
    first_transfer = next(
        (r for r in rows if r.kind == _TRANSFER and (r.data or {}).get("from_queue")), None
    )
    priority = opening.priority or (
        str(first_priority.data.get("before"))
        if first_priority and first_priority.data
        else case.priority
    )
    queue = opening.queue or (
        str(first_transfer.data["from_queue"]) if first_transfer else case.queue
    )
    filled = ClockEvent(opening.at, OPENED, queue=queue, priority=priority)
    return [filled if e is opening else e for e in history]


@dataclass(frozen=True)
class CaseSlaClock:
    """The desk's SLA targets and calendar, read the way the digests need them: the due times
    after any stretch of a case's audit trail, and business time between two moments."""

    sla: SlaConfig
    calendar: BusinessCalendar

    @classmethod
    def of(cls, desk: DeskConfig) -> CaseSlaClock:
        return cls(desk.sla, BusinessCalendar.from_config(desk.business_hours))

    def due_times(self, case: Case, events: Sequence[CaseEvent]) -> DueTimes:
        return due_times(history_from_events(case, events), self.sla, self.calendar)

    def business_seconds(self, start: datetime, end: datetime) -> float:
        return self.calendar.seconds_between(start, end)
