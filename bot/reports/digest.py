"""Manager digests: the reporting window, the text, and a chart (a PNG written to a file that
platforms able to take files may attach; the text names its path).

The text is report content rather than dialog copy, so it lives here and not in
``bot.dialogs.replies``. matplotlib is imported only when a chart is drawn.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.reports.metrics import Attainment, Durations, Metrics, collect
from bot.storage.uow import UnitOfWork

PERIODS = ("day", "week", "month")
_TITLES = {"day": "Daily digest", "week": "Weekly digest", "month": "Monthly digest"}


@dataclass(frozen=True)
class Window:
    period: str  # day | week | month
    key: str  # "2026-11-25", "2026-W48", "2026-11": the JobRun period
    start: datetime  # UTC (arithmetic on same-zone datetimes would ignore DST changes)
    end: datetime
    timezone: str = "UTC"

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
    return Window(period, _key(period, first), start, end.astimezone(UTC), timezone)


def _key(period: str, first: Any) -> str:
    if period == "day":
        return str(first.isoformat())
    if period == "week":
        year, week, _ = first.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{first:%Y-%m}"


@dataclass(frozen=True)
class Digest:
    window: Window
    metrics: Metrics
    text: str
    chart: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.window.period,
            "key": self.window.key,
            "label": self.window.label,
            "metrics": self.metrics.to_dict(),
            "text": self.text,
            "chart": str(self.chart) if self.chart else None,
        }


async def build_digest(
    uow: UnitOfWork,
    period: str,
    as_of: datetime,
    timezone: str,
    *,
    complete: bool = True,
    chart_path: Path | None = None,
) -> Digest:
    span = window(period, as_of, timezone, complete=complete)
    metrics = await collect(uow, span.start, span.end, as_of)
    chart = await asyncio.to_thread(render_chart, metrics, chart_path, span) if chart_path else None
    return Digest(span, metrics, format_digest(metrics, span, chart), chart)


# --- text ------------------------------------------------------------------------------------


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


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


def _times(name: str, d: Durations) -> str:
    if not d.count:
        return f"{name}: none in this period"
    return (
        f"{name}: median {duration(d.median_s)} · p90 {duration(d.p90_s)} "
        f"({_count(d.count, 'case')})"
    )


def _met(name: str, a: Attainment) -> str:
    return f"{name} {a.met}/{a.total} met ({_percent(a.rate)})"


def _counts(counts: dict[str, int], order: tuple[str, ...]) -> str:
    known = [k for k in order if counts.get(k)] + sorted(k for k in counts if k not in order)
    return ", ".join(f"{k} {counts[k]}" for k in known) or "none"


def format_digest(metrics: Metrics, span: Window, chart: Path | None = None) -> str:
    m = metrics
    lines = [
        f"{_TITLES[span.period]} — {span.label} ({span.local_start.tzname()})",
        f"Cases: {m.opened} opened · {m.resolved} resolved · backlog {m.backlog} "
        f"({_counts(m.backlog_by_status, ('new', 'open', 'pending'))}; "
        f"{_counts(m.backlog_by_priority, ('urgent', 'high', 'normal', 'low'))})",
        f"Deflection: {_count(m.suggestions_shown, 'answer')} shown · "
        f"{m.deflected_confirmed} confirmed helpful · {m.deflected_assumed} assumed "
        "(no case or complaint within 24 h) · "
        f"{m.deflection_undecided} undecided",
        _times("First response", m.first_response),
        _times("Resolution", m.resolution),
        f"SLA: {_met('first response', m.first_response_sla)} · "
        f"{_met('resolution', m.resolution_sla)} · "
        f"{_count(m.sla_breaches, 'breach', 'breaches')}",
    ]
    if m.csat_count:
        spread = " · ".join(f"{k}★ {v}" for k, v in sorted(m.csat_distribution.items()))
        lines.append(f"CSAT: {m.csat_average:.2f} from {_count(m.csat_count, 'rating')} ({spread})")
    else:
        lines.append("CSAT: no ratings")
    lines.append(f"Reopened: {m.reopened} of {m.resolved} resolved ({_percent(m.reopen_rate)})")
    if m.undelivered:
        lines.append(
            f"{m.undelivered} message{'s' if m.undelivered != 1 else ''} could not be delivered "
            "(helpdesk outbox list --status parked)"
        )
    if m.unhandled:
        lines.append(
            f"{m.unhandled} incoming message{'s' if m.unhandled != 1 else ''} could not be "
            "handled (helpdesk inbox list --status failed)"
        )
    if m.top_intents:
        lines.append("Top intents: " + " · ".join(f"{i} {n}" for i, n in m.top_intents))
    if m.top_unanswered:
        lines.append("Top unanswered: " + " · ".join(f"“{q}” ×{n}" for q, n in m.top_unanswered))
    if m.agents:
        lines.append(
            "Agents: "
            + " · ".join(
                f"{a.agent} {a.claimed} claimed, {a.resolved} resolved, {a.open_now} open"
                for a in m.agents
            )
        )
    if chart:
        lines.append(f"Chart: {chart}")
    return "\n".join(lines)


# --- chart -----------------------------------------------------------------------------------


def render_chart(metrics: Metrics, path: Path, span: Window) -> Path:
    """Cases opened and resolved per day, and the CSAT distribution, as a PNG. Uses a bare
    ``Figure`` (no pyplot state), so it is safe to draw off the event loop."""
    from matplotlib.figure import Figure

    path.parent.mkdir(parents=True, exist_ok=True)
    opened = dict(metrics.opened_per_day)
    resolved = dict(metrics.resolved_per_day)
    days = sorted(set(opened) | set(resolved))
    figure = Figure(figsize=(10, 4))
    volume, csat = figure.subplots(1, 2, width_ratios=(3, 1))
    positions = list(range(len(days)))
    volume.bar([p - 0.2 for p in positions], [opened.get(d, 0) for d in days], 0.4, label="opened")
    volume.bar(
        [p + 0.2 for p in positions], [resolved.get(d, 0) for d in days], 0.4, label="resolved"
    )
    volume.set_xticks(positions, [d[5:] for d in days], rotation=45, fontsize=7)
    volume.set_title(f"Cases — {span.label}")
    volume.legend()
    scores = list(range(1, 6))
    csat.bar(scores, [metrics.csat_distribution.get(s, 0) for s in scores], color="tab:green")
    csat.set_xticks(scores)
    csat.set_title("CSAT")
    figure.tight_layout()
    figure.savefig(path, format="png", dpi=100)
    return path
