"""SLA timers: due times on each case, the pause while it waits on the customer, and the
escalation ladder (warning → breach, unclaimed re-pings, stale pending cases).

Targets are business hours (``BusinessCalendar``); due times are stored as wall-clock UTC on the
case (``first_response_due_at``, ``resolution_due_at``). While a case is pending on the customer
the clock stops (``sla_paused_at``); on resume the due times move out by the business time that
was left at the pause. What was already sent is recorded in ``Case.sla_state`` so every warning
and breach goes out once, and each is written to the case's audit trail.

This module decides and records; the words and the outbox rows are the dialogs layer's
(``bot.dialogs.sla_notices``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.config import SlaConfig
from bot.escalation.calendar import BusinessCalendar
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


@dataclass(frozen=True)
class StaleCases:
    nudge: list[Case]  # pending on the customer for ``nudge_after_hours``: remind them
    close: list[Case]  # nudged ``auto_close_after_hours`` ago with no answer: close


def start_clock(case: Case, sla: SlaConfig, calendar: BusinessCalendar, now: datetime) -> None:
    """Set a new case's due times from its queue's and priority's targets."""
    target = sla.target(case.queue, case.priority)
    case.first_response_due_at = calendar.add(now, target.first_response_hours * 3600)
    case.resolution_due_at = calendar.add(now, target.resolution_hours * 3600)
    case.sla_paused_at = None
    case.sla_paused_seconds = case.sla_paused_seconds or 0
    case.sla_state = {}


def pause(case: Case, now: datetime) -> None:
    """The case waits on the customer: stop the clock (idempotent)."""
    if case.sla_paused_at is None:
        case.sla_paused_at = now
    if case.pending_since is None:
        case.pending_since = now


def resume(case: Case, calendar: BusinessCalendar, now: datetime) -> None:
    """The customer answered: restart the clock, moving due times out by the paused time."""
    paused_at = case.sla_paused_at
    case.pending_since = None
    case.nudged_at = None
    if paused_at is None:
        return
    case.sla_paused_at = None
    case.sla_paused_seconds = (case.sla_paused_seconds or 0) + int(
        (now - paused_at).total_seconds()
    )
    case.first_response_due_at = _shifted(case.first_response_due_at, calendar, paused_at, now)
    case.resolution_due_at = _shifted(case.resolution_due_at, calendar, paused_at, now)


def retarget(case: Case, sla: SlaConfig, calendar: BusinessCalendar) -> None:
    """The priority changed: due times from the opening under the new targets (a step
    already announced is not announced again)."""
    target = sla.target(case.queue, case.priority)
    case.first_response_due_at = calendar.add(case.created_at, target.first_response_hours * 3600)
    case.resolution_due_at = calendar.add(case.created_at, target.resolution_hours * 3600)


def restart_resolution(
    case: Case, sla: SlaConfig, calendar: BusinessCalendar, now: datetime
) -> None:
    """A reopened case gets a fresh resolution target from now."""
    target = sla.target(case.queue, case.priority)
    case.resolution_due_at = calendar.add(now, target.resolution_hours * 3600)
    state = dict(case.sla_state or {})
    state.pop(RESOLUTION, None)
    case.sla_state = state


def _shifted(
    due: datetime | None, calendar: BusinessCalendar, paused_at: datetime, now: datetime
) -> datetime | None:
    if due is None or due <= paused_at:  # already breached before the pause: stays breached
        return due
    return calendar.add(now, calendar.seconds_between(paused_at, due))


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
    for case in rows:
        _reconcile_pause(case, calendar, now)
        if case.status not in _RUNNING:
            continue
        if case.first_response_due_at is None and case.resolution_due_at is None:
            start_clock(case, sla, calendar, case.created_at)  # opened before SLAs were set up
        alerts.extend(_steps(uow, case, sla, calendar, now))
    return alerts


def _reconcile_pause(case: Case, calendar: BusinessCalendar, now: datetime) -> None:
    """A status change that skipped ``pause``/``resume`` is caught here, a minute late."""
    if case.status == "pending" and case.sla_paused_at is None:
        pause(case, case.pending_since or now)
    elif case.status != "pending" and case.sla_paused_at is not None:
        resume(case, calendar, now)


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
        if now >= due and "breach" not in sent:
            sent["breach"] = now.isoformat()
            sent.setdefault("warning", now.isoformat())  # a late run skips straight to breach
            alerts.append(SlaAlert(case, "breach", name, due))
            _audit(uow, case, SLA_BREACH, name, due, now)
        elif now < due and "warning" not in sent:
            left = calendar.seconds_between(now, due)
            if left <= (1 - sla.warning_fraction) * hours * 3600:
                sent["warning"] = now.isoformat()
                alerts.append(SlaAlert(case, "warning", name, due))
                _audit(uow, case, SLA_WARNING, name, due, now)
    if case.status == "new" and calendar.is_open(now):
        last = datetime.fromisoformat(state["last_ping"]) if "last_ping" in state else None
        since = last or case.created_at
        if calendar.seconds_between(since, now) >= sla.unclaimed_reping_minutes * 60:
            state["last_ping"] = now.isoformat()
            state["pings"] = int(state.get("pings", 0)) + 1
            alerts.append(SlaAlert(case, "unclaimed", "", None, pings=state["pings"]))
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
