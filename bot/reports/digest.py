"""Manager digests: the reporting window, the text, and a chart (a PNG the platforms able to
take files attach; ``bot.reports.chart``).

The text is report content rather than dialog copy, so it lives here and not in
``bot.dialogs.replies``. matplotlib is imported only when a chart is drawn.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.reports.chart import render_chart
from bot.reports.definitions import FOOTER
from bot.reports.gap_text import gap_line
from bot.reports.gaps import Encoder, Gap, top_gaps
from bot.reports.metrics import Durations, LateNow, Metrics, SlaClock, Span, Target, collect
from bot.storage.inbox import failed_count
from bot.storage.outbox import delivery_counts
from bot.storage.uow import UnitOfWork

PERIODS = ("day", "week", "month")
_TITLES = {"day": "Daily digest", "week": "Weekly digest", "month": "Monthly digest"}
_SO_FAR = {"day": "Today", "week": "This week", "month": "This month"}
_BEFORE = {"day": "the day before", "week": "the week before", "month": "the month before"}
TOP_GAPS = 3  # knowledge gaps in the weekly digest


@dataclass(frozen=True)
class Window:
    period: str  # day | week | month
    key: str  # "2026-11-25", "2026-W48", "2026-11": the JobRun period
    start: datetime  # UTC (arithmetic on same-zone datetimes would ignore DST changes)
    end: datetime
    timezone: str = "UTC"
    complete: bool = True  # a whole period; else the current one up to ``end`` (``stats``)

    @property
    def local_start(self) -> datetime:
        return self.start.astimezone(ZoneInfo(self.timezone))

    @property
    def label(self) -> str:
        first = self.local_start
        if self.period == "day":
            return f"{first:%a %d %b %Y}"
        if self.period == "week":
            last = first + timedelta(days=6)
            return f"week {self.key[-2:]}, {first:%d %b} – {last:%d %b %Y}"
        return f"{first:%B %Y}"


def window(period: str, as_of: datetime, timezone: str, *, complete: bool = True) -> Window:
    """The reporting window: with ``complete`` the last whole day / ISO week / month before
    ``as_of`` (what the scheduled digest covers), else the current one up to ``as_of``."""
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}, not {period!r}")
    tz = ZoneInfo(timezone)
    today = as_of.astimezone(tz).date()
    if period == "day":
        first = today - timedelta(days=1) if complete else today
        following = first + timedelta(days=1)
    elif period == "week":
        monday = today - timedelta(days=today.weekday())
        first = monday - timedelta(days=7) if complete else monday
        following = first + timedelta(days=7)
    else:
        this_month = today.replace(day=1)
        first = (this_month - timedelta(days=1)).replace(day=1) if complete else this_month
        following = (first + timedelta(days=32)).replace(day=1)
    start = datetime.combine(first, time(0), tz).astimezone(UTC)
    end = datetime.combine(following, time(0), tz).astimezone(UTC) if complete else as_of
    return Window(period, _key(period, first), start, end.astimezone(UTC), timezone, complete)


def previous(span: Window) -> Window:
    """The whole period before ``span``."""
    return window(span.period, span.start, span.timezone)


def _key(period: str, first: Any) -> str:
    if period == "day":
        return str(first.isoformat())
    if period == "week":
        year, week, _ = first.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{first:%Y-%m}"


@dataclass(frozen=True)
class Backstops:
    """Messages waiting for someone now — not figures of the period, so outside ``Metrics``."""

    undelivered: int = 0  # outgoing messages given up on (parked)
    unhandled: int = 0  # incoming messages kept as failed after their last attempt


@dataclass(frozen=True)
class Digest:
    window: Window
    metrics: Metrics
    text: str
    chart: Path | None = None
    backstops: Backstops = Backstops()
    gaps: tuple[Gap, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.window.period,
            "key": self.window.key,
            "label": self.window.label,
            "complete": self.window.complete,
            "metrics": self.metrics.to_dict(),
            "undelivered": self.backstops.undelivered,
            "unhandled": self.backstops.unhandled,
            "text": self.text,
            "chart": str(self.chart) if self.chart else None,
            "gaps": [g.to_dict() for g in self.gaps],
        }


async def build_digest(
    uow: UnitOfWork,
    period: str,
    as_of: datetime,
    timezone: str,
    *,
    sla: SlaClock,
    complete: bool = True,
    chart_path: Path | None = None,
    gaps_encoder: Encoder | None = None,
) -> Digest:
    """The digest of the last whole period before ``as_of`` (or, without ``complete``, of the
    current one so far), with the desk's SLA rules ``sla``. A whole week's digest lists the
    top knowledge gaps, grouped with ``gaps_encoder`` (the bot's encoder) when given."""
    span = window(period, as_of, timezone, complete=complete)
    before = previous(span)
    metrics = await collect(uow, Span(span.start, span.end, before.start, timezone), sla)
    backstops = Backstops(
        undelivered=(await delivery_counts(uow.session))["parked"],
        unhandled=await failed_count(uow.session),
    )
    chart = await asyncio.to_thread(render_chart, metrics, chart_path, span) if chart_path else None
    gaps: list[Gap] = []
    if gaps_encoder is not None and complete and period == "week":
        gaps = await top_gaps(
            uow.session, since=span.start, until=span.end, limit=TOP_GAPS, encoder=gaps_encoder
        )
    text = format_digest(metrics, span, backstops, gaps)
    return Digest(span, metrics, text, chart, backstops, tuple(gaps))


# --- text ------------------------------------------------------------------------------------


def duration(seconds: float | None) -> str:
    """``45 min``, ``2 h 05 min``, ``5 d 21 h``: rounded to the nearest minute, and past a day
    to the nearest hour (5 d 20 h 59 min reads 5 d 21 h, not 5 d 20 h); halves round up."""
    if seconds is None:
        return "–"
    minutes = _nearest(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 24 * 60:
        hours, minutes = divmod(minutes, 60)
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(_nearest(seconds / 3600), 24)
    return f"{days} d {hours} h"


def _nearest(value: float) -> int:
    """Half up (``round`` rounds halves to even: 562.5 minutes would read 562)."""
    return math.floor(value + 0.5)


def _percent(rate: float | None) -> str:
    """Whole percentages, with as many decimals as it takes for a rate short of 100 % not to
    read as 100 % (199/200 is 99.5 %, not 100 %) and a rate above 0 % not to read as 0 %."""
    if rate is None:
        return "–"
    for decimals in range(4):
        shown = round(rate * 100, decimals)
        if (shown < 100 or rate >= 1) and (shown > 0 or rate <= 0):
            return f"{shown:.{decimals}f}%"
    return f"{rate:.4%}"


def _count(number: int, noun: str, plural: str = "") -> str:
    """``1 case``, ``2 cases``; ``plural`` for nouns not made with an -s (``breaches``)."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


def _trend(now: int, before: int, span: Window) -> str:
    change = now - before
    arrow = "▲" if change > 0 else "▼" if change < 0 else "="
    return f"{arrow}{abs(change) if change else ''} vs {before} {_BEFORE[span.period]}"


def _times(name: str, d: Durations) -> str:
    if not d.count:
        return f"{name}: none in this period"
    caution = ", few cases: read with care" if d.few else ""
    return (
        f"{name}, business hours (clock time): median {duration(d.median_s)} "
        f"({duration(d.clock_median_s)}) · p90 {duration(d.p90_s)} ({duration(d.clock_p90_s)}) "
        f"· n = {d.count}{caution}"
    )


def _target(name: str, t: Target) -> str:
    if not t.decided and not t.running:
        return f"{name} no targets"
    return (
        f"{name} {t.met}/{t.decided} met ({_percent(t.rate)}), {t.breached} breached, "
        f"{t.running} running"
    )


def _counts(counts: dict[str, int], order: tuple[str, ...]) -> str:
    known = [k for k in order if counts.get(k)] + sorted(k for k in counts if k not in order)
    return ", ".join(f"{k} {counts[k]}" for k in known) or "none"


def _title(span: Window) -> str:
    zone = span.local_start.tzname()
    if span.complete:
        return f"{_TITLES[span.period]} — {span.label} ({zone})"
    moment = span.end.astimezone(ZoneInfo(span.timezone))
    when = f"{moment:%H:%M}" if span.period == "day" else f"{moment:%a %d %b %H:%M}"
    return f"{_SO_FAR[span.period]} so far, as of {when} ({moment.tzname()}) — {span.label}"


def _late(late: LateNow, m: Metrics, span: Window) -> str:
    label = "Open at the end" if span.complete else "Open now"
    if not late.open:
        return f"{label}: none"
    return (
        f"{label}: {late.open} "
        f"({_counts(m.backlog_by_status, ('new', 'open', 'pending'))}; "
        f"{_counts(m.backlog_by_priority, ('urgent', 'high', 'normal', 'low'))}) · "
        f"{late.overdue} overdue · {late.never_answered} never answered · "
        f"oldest {duration(late.oldest_age_s)}"
    )


def _deflection(m: Metrics) -> list[str]:
    d = m.deflection
    if not d.shown:
        return ["Deflection: no answers shown"]
    lines = [
        f"Deflection: {_count(d.shown, 'answer')} shown = {d.confirmed} confirmed helpful + "
        f"{d.not_helpful} not helpful + {d.escalated} escalated + {d.assumed} assumed "
        f"(no reply, case or complaint within 24 h) + {d.undecided} undecided · rate "
        f"{_percent(d.rate)} of {d.decided} decided"
    ]
    e = m.earlier_undecided
    if e.shown:
        now = ", ".join(
            f"{getattr(e, k)} {k.replace('_', ' ')}"
            for k in ("confirmed", "not_helpful", "escalated", "assumed", "undecided")
            if getattr(e, k)
        )
        lines.append(f"Undecided in the period before: {e.shown}, now {now}")
    return lines


def _agents(m: Metrics) -> str:
    return "Agents: " + " · ".join(
        f"{a.agent} {a.claimed} claimed, {_count(a.replied, 'reply', 'replies')}, "
        f"{a.resolved} resolved, {a.holding} held"
        for a in m.agents
    )


def format_digest(
    metrics: Metrics,
    span: Window,
    backstops: Backstops = Backstops(),
    gaps: Sequence[Gap] = (),
) -> str:
    m = metrics
    lines = [
        _title(span),
        f"Cases: {m.opened} opened ({_trend(m.opened, m.previous_opened, span)}) · "
        f"{m.resolved} resolved ({_trend(m.resolved, m.previous_resolved, span)}) · "
        f"{_count(m.reopened, 'reopen')}",
        _late(m.late, m, span),
        *_deflection(m),
        _times("First response", m.first_response),
        _times("Resolution", m.resolution),
        f"SLA of the {_count(m.opened, 'case')} opened: "
        f"{_target('first response', m.first_response_sla)} · "
        f"{_target('resolution', m.resolution_sla)} · "
        f"{_count(m.sla_breaches, 'breach', 'breaches')}",
    ]
    if m.csat_count:
        spread = " · ".join(f"{k}★ {v}" for k, v in sorted(m.csat_distribution.items()))
        lines.append(
            f"CSAT: {m.csat_average:.2f} from {_count(m.csat_count, 'rating')} ({spread}) · "
            f"{m.csat_rated} of {_count(m.csat_resolutions, 'resolution')} rated "
            f"({_percent(m.csat_response_rate)})"
        )
    else:
        lines.append(f"CSAT: no ratings · 0 of {_count(m.csat_resolutions, 'resolution')} rated")
    lines.append(
        f"Reopened: {m.resolved_then_reopened} of {_count(m.resolved, 'resolution')} "
        f"reopened by {'the end' if span.complete else 'now'}"
    )
    if backstops.undelivered:
        lines.append(
            f"{_count(backstops.undelivered, 'message')} could not be delivered "
            "(helpdesk outbox list --status parked)"
        )
    if backstops.unhandled:
        lines.append(
            f"{_count(backstops.unhandled, 'incoming message')} could not be handled "
            "(helpdesk inbox list --status failed)"
        )
    if m.top_topics or m.without_topic:
        topics = " · ".join(f"{i} {n}" for i, n in m.top_topics) or "none"
        lines.append(f"Top topics: {topics} ({m.without_topic} without a topic)")
    if m.top_unanswered:
        lines.append("Top unanswered: " + " · ".join(f"“{q}” ×{n}" for q, n in m.top_unanswered))
    if gaps:
        lines.append(f"Top knowledge gaps (count, then {_BEFORE[span.period]}):")
        lines.extend(f"  {gap_line(g)}" for g in gaps)
    if m.agents:
        lines.append(_agents(m))
    lines.append(FOOTER)
    return "\n".join(lines)
