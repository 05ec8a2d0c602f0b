"""SLA timers: due times on each case, the pause while it waits on the customer, and the
escalation ladder (warning → breach, unclaimed re-pings, stale pending cases).

Targets are business hours (``BusinessCalendar``); due times are stored as UTC on the case
(``first_response_due_at``, ``resolution_due_at``) but never edited in place: ``recompute``
derives them from the case's audit trail through ``sla_clock.due_times`` after every change, so
pauses, reopens, priority changes and transfers all count the same way. A target is met when
done at or before its due instant (``met``), breached only after it. What was already sent is
recorded in ``Case.sla_state`` so every warning and breach goes out once, and each is written to
the case's audit trail.

This module decides and records; the words and the outbox rows are the dialogs layer's
(``bot.dialogs.sla_notices``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.clock import on_time
from bot.config import SlaConfig
from bot.escalation.calendar import BusinessCalendar
from bot.escalation.sla_clock import (
    OPENED,
    ClockEvent,
    DueTimes,
    due_times,
    history_from_events,
)
from bot.storage.models import Case, CaseEvent
from bot.storage.uow import UnitOfWork

SLA_WARNING = "sla_warning"  # case_events.kind
SLA_BREACH = "sla_breach"
SLA_UNCLAIMED = "sla_unclaimed"

FIRST_RESPONSE = "first_response"
RESOLUTION = "resolution"

_RUNNING = ("new", "open")  # pending is paused; resolved and closed are done


@dataclass(frozen=True)
class SlaAlert:
    """One step of the ladder for one case, already recorded; to be announced."""

    case: Case
    stage: str  # "warning" | "breach" | "unclaimed"
    target: str  # FIRST_RESPONSE | RESOLUTION ("" for unclaimed re-pings)
    due_at: datetime | None
    pings: int = 0  # unclaimed re-pings so far, this one included
    since: datetime | None = None  # unclaimed re-pings: in the queue without a holder since


@dataclass(frozen=True)
class StaleCases:
    nudge: list[Case]  # pending on the customer for ``nudge_after_hours``: remind them
    close: list[Case]  # nudged ``auto_close_after_hours`` ago with no answer: close


def start_clock(case: Case, sla: SlaConfig, calendar: BusinessCalendar, now: datetime) -> None:
    """Due times of a case opened at ``now`` with nothing else in its history yet (for cases
    written directly, like the demo history)."""
    opened = ClockEvent(now, OPENED, queue=case.queue, priority=case.priority)
    times = due_times([opened], sla, calendar)
    case.first_response_due_at = times.first_response_due_at
    case.resolution_due_at = times.resolution_due_at


async def recompute(
    uow: UnitOfWork, case: Case, sla: SlaConfig, calendar: BusinessCalendar
) -> DueTimes:
    """Set the case's due times (and pause) from its whole audit trail: every change — opening,
    pending and the answer, resolution, reopen, priority, transfer — goes through the same
    ``sla_clock.due_times``, so the order things happened in cannot leave a stale clock."""
    await uow.session.flush()
    events = await uow.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
    )
    times = due_times(history_from_events(case, events), sla, calendar)
    apply(case, times)
    return times


def apply(case: Case, times: DueTimes) -> None:
    """Write derived due times onto the case. Steps of the ladder already announced stay
    announced, except that a new resolution target (a reopen) is announced afresh."""
    case.first_response_due_at = times.first_response_due_at
    case.resolution_due_at = times.resolution_due_at
    case.sla_paused_at = times.paused_at
    case.sla_paused_seconds = times.paused_seconds
    if case.status != "pending":
        case.pending_since = None
        case.nudged_at = None
    state = dict(case.sla_state or {})
    since = times.resolution_since.isoformat() if times.resolution_since else None
    if state.get("resolution_since") not in (None, since):
        state.pop(RESOLUTION, None)
    if since:
        state["resolution_since"] = since
    unclaimed = times.unclaimed_since.isoformat() if times.unclaimed_since else None
    if state.get("unclaimed_since") != unclaimed:
        if "unclaimed_since" in state:  # back in a queue: re-pings count again from there
            state.pop("last_ping", None)
            state.pop("pings", None)
        state["unclaimed_since"] = unclaimed
    if state != (case.sla_state or {}):
        case.sla_state = state  # a new object: JSON columns do not track in-place changes


def met(done_at: datetime, due_at: datetime) -> bool:
    """A target is met when done at or before the due instant (``bot.clock.on_time``: the
    digest counts met by the same rule)."""
    return on_time(done_at, due_at)


def is_breached(due_at: datetime, now: datetime) -> bool:
    """Breached once ``now`` is past the due instant: at the due minute it can still be met."""
    return not met(now, due_at)


async def ladder(
    uow: UnitOfWork, sla: SlaConfig, calendar: BusinessCalendar, now: datetime
) -> list[SlaAlert]:
    """Every warning, breach and unclaimed re-ping due now, recorded in ``sla_state`` and the
    audit trail. On PostgreSQL the cases are row-locked (``SKIP LOCKED``) so two schedulers
    never announce the same step."""
    rows = await uow.session.scalars(
        select(Case)
        .where(Case.status.in_(("new", "open", "pending")))
        .order_by(Case.id)
        .with_for_update(skip_locked=True)
    )
    alerts: list[SlaAlert] = []
    for case in list(rows):
        unset = case.first_response_due_at is None and case.resolution_due_at is None
        if unset or (case.status == "pending") != (case.sla_paused_at is not None):
            await recompute(uow, case, sla, calendar)  # a change that bypassed the handler
        if case.status not in _RUNNING:
            continue
        alerts.extend(_steps(uow, case, sla, calendar, now))
    return alerts


def _steps(
    uow: UnitOfWork, case: Case, sla: SlaConfig, calendar: BusinessCalendar, now: datetime
) -> list[SlaAlert]:
    target = sla.target(case.queue, case.priority)
    state: dict[str, Any] = {
        key: dict(value) if isinstance(value, dict) else value
        for key, value in (case.sla_state or {}).items()
    }
    alerts: list[SlaAlert] = []
    checks = []
    if case.first_response_at is None:
        checks.append((FIRST_RESPONSE, case.first_response_due_at, target.first_response_hours))
    checks.append((RESOLUTION, case.resolution_due_at, target.resolution_hours))
    for name, due, hours in checks:
        if due is None:
            continue
        sent: dict[str, str] = state.setdefault(name, {})
        if is_breached(due, now) and "breach" not in sent:
            sent["breach"] = now.isoformat()
            sent.setdefault("warning", now.isoformat())  # a late run skips straight to breach
            alerts.append(SlaAlert(case, "breach", name, due))
            _audit(uow, case, SLA_BREACH, name, due, now)
        elif not is_breached(due, now) and "warning" not in sent:
            left = calendar.seconds_between(now, due)
            if left <= (1 - sla.warning_fraction) * hours * 3600:
                sent["warning"] = now.isoformat()
                alerts.append(SlaAlert(case, "warning", name, due))
                _audit(uow, case, SLA_WARNING, name, due, now)
    if case.status == "new" and calendar.is_open(now):
        last = datetime.fromisoformat(state["last_ping"]) if state.get("last_ping") else None
        unclaimed = state.get("unclaimed_since")
        waiting = datetime.fromisoformat(unclaimed) if unclaimed else case.created_at
        since = max(last, waiting) if last else waiting  # the later: last ping, or queued
        if calendar.seconds_between(since, now) >= sla.unclaimed_reping_minutes * 60:
            state["last_ping"] = now.isoformat()
            state["pings"] = int(state.get("pings", 0)) + 1
            alerts.append(
                SlaAlert(case, "unclaimed", "", None, pings=state["pings"], since=waiting)
            )
            _audit(uow, case, SLA_UNCLAIMED, "", None, now, pings=state["pings"])
    if alerts:
        case.sla_state = state  # a new object: JSON columns do not track in-place changes
    return alerts


def _audit(
    uow: UnitOfWork,
    case: Case,
    kind: str,
    target: str,
    due: datetime | None,
    now: datetime,
    **extra: object,
) -> None:
    data: dict[str, object] = {"target": target, **extra}
    if due is not None:
        data["due_at"] = due.isoformat()
    uow.session.add(
        CaseEvent(
            case_id=case.id,
            kind=kind,
            author="bot",
            author_name="SLA",
            body=f"{target or 'unclaimed'} {kind.removeprefix('sla_')}",
            data=data,
            created_at=now,
        )
    )


async def stale_cases(uow: UnitOfWork, sla: SlaConfig, now: datetime) -> StaleCases:
    """Pending cases whose customer has gone quiet: first a nudge, then closing."""
    rows = await uow.session.scalars(
        select(Case)
        .where(Case.status == "pending", Case.pending_since.is_not(None))
        .order_by(Case.id)
        .with_for_update(skip_locked=True)
    )
    nudge: list[Case] = []
    close: list[Case] = []
    for case in rows:
        assert case.pending_since is not None
        if case.nudged_at is None:
            if now - case.pending_since >= timedelta(hours=sla.nudge_after_hours):
                case.nudged_at = now
                nudge.append(case)
        elif now - case.nudged_at >= timedelta(hours=sla.auto_close_after_hours):
            close.append(case)
    return StaleCases(nudge=nudge, close=close)
