"""SLA figures of a digest: each case's targets judged from its audit trail as it stood at the
period's end (met, breached, running), and the open cases that were late then.

The due times come from the desk's SLA clock (``bot.escalation.sla_clock.CaseSlaClock``),
passed in by the caller: this package does not import the escalation service.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.clock import on_time
from bot.reports.timeline import Timeline
from bot.storage.models import Case, CaseEvent


class Due(Protocol):
    @property
    def first_response_due_at(self) -> datetime | None: ...
    @property
    def resolution_due_at(self) -> datetime | None: ...
    @property
    def paused_at(self) -> datetime | None: ...


class SlaClock(Protocol):
    """The desk's SLA rules (``bot.escalation.sla_clock.CaseSlaClock``), passed in by the caller."""

    def due_times(self, case: Case, events: Sequence[CaseEvent]) -> Due: ...

    def business_seconds(self, start: datetime, end: datetime) -> float: ...


@dataclass(frozen=True)
class Target:
    """One SLA target over the cases opened in the window, as things stood at its end."""

    met: int = 0
    breached: int = 0
    running: int = 0  # not done yet and not yet late

    @property
    def decided(self) -> int:
        return self.met + self.breached

    @property
    def rate(self) -> float | None:
        return self.met / self.decided if self.decided else None


@dataclass(frozen=True)
class LateNow:
    """The cases open at the window's end."""

    open: int = 0
    overdue: int = 0  # a target's due time had passed
    never_answered: int = 0  # no agent reply yet
    oldest_age_s: float | None = None  # the oldest one's age (clock time since opening)


def judge(done: datetime, due: datetime | None, paused_at: datetime | None) -> bool | None:
    """On time (True), late (False), or no target (None); the clock stops while paused."""
    if due is None:
        return None
    return on_time(min(done, paused_at) if paused_at else done, due)


def stopped_at(t: Timeline) -> datetime:
    """When an inactive case's clock stopped: its last resolution or closing."""
    stops = [e.created_at for e in t.events if (e.data or {}).get("to") in ("resolved", "closed")]
    return stops[-1] if stops else t.case.created_at


def first_response(t: Timeline, sla: SlaClock, end: datetime) -> str:
    reply = t.first_reply
    if reply is not None:
        due = sla.due_times(t.case, t.events[: list(t.events).index(reply)])
        verdict = judge(reply.created_at, due.first_response_due_at, due.paused_at)
        return "none" if verdict is None else "met" if verdict else "breached"
    due = sla.due_times(t.case, t.events)
    moment = end if t.active else stopped_at(t)
    verdict = judge(moment, due.first_response_due_at, due.paused_at)
    if verdict is False:
        return "breached"
    return "running" if t.active and verdict else "none"  # closed unanswered in time: no target


def resolution(t: Timeline, sla: SlaClock, end: datetime) -> str:
    verdicts = []
    for resolution in t.resolutions:
        due = sla.due_times(t.case, t.through(resolution))
        verdicts.append(judge(resolution.created_at, due.resolution_due_at, None))
    due = sla.due_times(t.case, t.events)
    if t.active:
        verdicts.append(judge(end, due.resolution_due_at, due.paused_at))
    elif not t.resolutions and judge(stopped_at(t), due.resolution_due_at, None) is False:
        verdicts.append(False)  # closed without a resolution: late only if it was late then
    if False in verdicts:
        return "breached"
    if t.active and True in verdicts:
        return "running"
    return "met" if True in verdicts else "none"


def target(outcomes: Iterable[str]) -> Target:
    counts = Counter(outcomes)
    return Target(met=counts["met"], breached=counts["breached"], running=counts["running"])


def late_now(open_at_end: Sequence[Timeline], sla: SlaClock, end: datetime) -> LateNow:
    overdue = never = 0
    for t in open_at_end:
        due = sla.due_times(t.case, t.events)
        answered = t.first_reply is not None
        never += not answered
        late_first = not answered and judge(end, due.first_response_due_at, due.paused_at) is False
        late_done = judge(end, due.resolution_due_at, due.paused_at) is False
        overdue += late_first or late_done
    ages = [(end - t.case.created_at).total_seconds() for t in open_at_end]
    return LateNow(len(open_at_end), overdue, never, max(ages) if ages else None)
