"""What the dashboard shows, as one JSON-ready snapshot.

The period figures (volume, deflection, response and resolution times, CSAT) are the digest's
own: ``bot.reports.metrics.collect`` over the digest's windows (``bot.reports.digest.window``,
today and this ISO week so far, in the digest's time zone), so the dashboard and ``stats``
never disagree. Their definitions are ``bot.reports.definitions``.

The live part — the queue and each open case's SLA clock — reads each open case's audit trail
through the desk's SLA clock (``bot.escalation.sla_clock``), the same rules that send the SLA
warnings and breaches. The browser counts down from the due times given here; ``warn_at`` is
the moment the SLA check warns (``warning_fraction`` of the target's business time spent).

The knowledge gaps are ``bot.reports.gaps.top_gaps`` over this week so far, grouped by the
bot's own encoder as in the weekly digest; grouping costs an encoder pass, so ``GapsPanel``
keeps them for a few minutes rather than redoing them on every change.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.config import DeskConfig
from bot.escalation.calendar import BusinessCalendar
from bot.escalation.sla_clock import CaseSlaClock
from bot.masking import mask_contacts
from bot.reports.digest import Window, previous, window
from bot.reports.gap_text import quote
from bot.reports.gaps import Encoder, Gap, top_gaps
from bot.reports.metrics import Durations, Metrics, Span, collect
from bot.reports.timeline import ACTIVE, Timeline
from bot.storage.models import Case, CaseEvent
from bot.storage.uow import UnitOfWork

SUBJECT_CHARS = 80
PERIODS = (("today", "day"), ("week", "week"))
TOP_GAPS = 5
GAPS_REFRESH_SECONDS = 300.0


@dataclass
class GapsPanel:
    """This week's top knowledge gaps, grouped by ``encoder``, computed again at most every
    ``refresh_seconds`` (gaps move slowly; an encoder pass per case change would not)."""

    encoder: Encoder
    refresh_seconds: float = GAPS_REFRESH_SECONDS
    _rows: list[dict[str, Any]] = field(default_factory=list)
    _at: float | None = None

    async def rows(self, uow: UnitOfWork, desk: DeskConfig, now: datetime) -> list[dict[str, Any]]:
        moment = time.monotonic()
        if self._at is None or moment - self._at >= self.refresh_seconds:
            week = window("week", now, desk.digest_timezone, complete=False)
            gaps = await top_gaps(
                uow.session, since=week.start, until=week.end, limit=TOP_GAPS, encoder=self.encoder
            )
            self._rows, self._at = [_gap(g, desk) for g in gaps], moment
        return self._rows


def _gap(gap: Gap, desk: DeskConfig) -> dict[str, Any]:
    """A gap as the page shows it: customers' words short and, where the desk masks contacts
    for agents, masked here too (the page sets them as text, never as HTML)."""
    shown = mask_contacts if desk.privacy.mask_agent_view else (lambda text: text)
    return {
        "rank": gap.rank,
        "count": gap.count,
        "previous": gap.previous,
        "trend": gap.trend,
        "examples": [quote(e, shown) for e in gap.examples],
        "kinds": dict(gap.kinds),
        "cases": list(gap.cases[:5]),
    }


async def snapshot(
    uow: UnitOfWork, desk: DeskConfig, now: datetime, *, gaps: GapsPanel | None = None
) -> dict[str, Any]:
    sla = CaseSlaClock.of(desk)
    open_cases = await _open_timelines(uow)
    cases = [_case(t, sla, desk, now) for t in open_cases]
    periods = {}
    for name, period in PERIODS:
        span = window(period, now, desk.digest_timezone, complete=False)
        metrics = await collect(
            uow, Span(span.start, span.end, previous(span).start, span.timezone), sla
        )
        periods[name] = _period(span, metrics)
    return {
        "as_of": now.isoformat(),
        "timezone": desk.digest_timezone,
        "queues": _queues(desk, cases),
        "cases": sorted(cases, key=_urgency),
        "periods": periods,
        # None: no encoder in this process to group them by (the panel is left out)
        "gaps": await gaps.rows(uow, desk, now) if gaps is not None else None,
    }


async def _open_timelines(uow: UnitOfWork) -> list[Timeline]:
    cases = list(
        await uow.session.scalars(select(Case).where(Case.status.in_(ACTIVE)).order_by(Case.id))
    )
    trails: dict[int, list[CaseEvent]] = {case.id: [] for case in cases}
    if cases:
        for event in await uow.session.scalars(
            select(CaseEvent)
            .where(CaseEvent.case_id.in_(list(trails)))
            .order_by(CaseEvent.created_at, CaseEvent.id)
        ):
            trails[event.case_id].append(event)
    return [Timeline(case, trails[case.id]) for case in cases]


def _case(t: Timeline, sla: CaseSlaClock, desk: DeskConfig, now: datetime) -> dict[str, Any]:
    case = t.case
    due = sla.due_times(case, t.events)
    target = desk.sla.target(case.queue, case.priority)
    clocks = []
    if t.first_reply is None:
        clocks.append(
            _clock("first_response", due.first_response_due_at, target.first_response_hours)
        )
    clocks.append(_clock("resolution", due.resolution_due_at, target.resolution_hours))
    for clock in clocks:
        if clock["due"] is not None:
            clock["warn_at"] = _warn_at(
                sla.calendar, clock.pop("_due"), clock.pop("_hours"), desk.sla.warning_fraction
            ).isoformat()
        else:
            clock.pop("_due"), clock.pop("_hours")
    return {
        "number": case.id,
        "subject": case.subject[:SUBJECT_CHARS],
        "queue": case.queue,
        "priority": case.priority,
        "status": case.status,
        "holder": case.assignee_name or case.assignee,
        "opened_at": case.created_at.isoformat(),
        "unclaimed_since": due.unclaimed_since.isoformat()
        if due.unclaimed_since and case.status == "new"
        else None,
        "paused_since": due.paused_at.isoformat() if due.paused_at else None,
        "clocks": clocks,
    }


def _clock(name: str, due: datetime | None, hours: float) -> dict[str, Any]:
    return {
        "target": name,
        "due": due.isoformat() if due else None,
        "_due": due,
        "_hours": hours,
    }


def _warn_at(calendar: BusinessCalendar, due: datetime, hours: float, fraction: float) -> datetime:
    """The last moment at which at most ``(1 - fraction)`` of the target's business time is
    left before ``due`` — when the SLA check warns. Business time left shrinks as the moment
    moves on, so it is found by bisection (to the second)."""
    left = (1 - fraction) * hours * 3600
    hi = due - timedelta(seconds=left)  # clock time passes at least as fast as business time
    step = timedelta(seconds=max(left, 60))
    lo = hi - step
    while calendar.seconds_between(lo, due) <= left and step < timedelta(days=3660):
        step *= 2
        lo = hi - step
    while (hi - lo) > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if calendar.seconds_between(mid, due) <= left:
            hi = mid
        else:
            lo = mid
    return hi


def _urgency(case: dict[str, Any]) -> tuple[int, str]:
    dues = [c["due"] for c in case["clocks"] if c["due"]]
    return (1 if case["paused_since"] else 0, min(dues) if dues else "9999")


def _queues(desk: DeskConfig, cases: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every configured queue (a quiet queue shows 0), plus any a case sits in that is no
    longer configured."""
    names = [q.name for q in desk.queues]
    names += sorted({c["queue"] for c in cases} - set(names))
    rows = []
    for name in names:
        waiting = sorted(
            c["unclaimed_since"] for c in cases if c["queue"] == name and c["unclaimed_since"]
        )
        rows.append(
            {
                "queue": name,
                "unclaimed": len(waiting),
                "oldest_since": waiting[0] if waiting else None,
            }
        )
    return rows


def _durations(d: Durations) -> dict[str, Any]:
    return {"n": d.count, "median_s": d.median_s, "p90_s": d.p90_s, "few": d.few}


def _period(span: Window, m: Metrics) -> dict[str, Any]:
    return {
        "label": span.label,
        "start": span.start.isoformat(),
        "end": span.end.isoformat(),
        "opened": m.opened,
        "resolved": m.resolved,
        "deflection": {
            **m.deflection.as_dict(),
            "shown": m.deflection.shown,
            "rate": m.deflection.rate,
        },
        "first_response": _durations(m.first_response),
        "resolution": _durations(m.resolution),
        "csat": {
            "average": m.csat_average,
            "n": m.csat_count,
            "distribution": {str(k): v for k, v in sorted(m.csat_distribution.items())},
            "response_rate": m.csat_response_rate,
        },
    }
