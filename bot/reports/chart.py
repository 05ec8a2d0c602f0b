"""The digest's chart: one PNG a manager reads at a glance.

Per local day of the period — every day, quiet ones included — cases opened and resolved, the
backlog at the day's end, and SLA targets breached by the cases opened that day; beside them
the CSAT spread with its n. Counts get whole-number ticks, every axis a label, and a panel with
nothing to show says so instead of drawing an empty frame. A bare ``Figure`` (no pyplot state)
keeps drawing safe off the event loop; matplotlib is imported only here, only when drawing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.reports.digest import Window
    from bot.reports.metrics import Metrics

NO_DATA = "no data in this period"


def _counts_axis(axes: Any, ylabel: str, values: list[int]) -> None:
    from matplotlib.ticker import MaxNLocator

    axes.set_ylabel(ylabel)
    axes.set_ylim(0, max([*values, 1]) * 1.15)  # never a −0.04…0.04 axis
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))


def _no_data(axes: Any) -> None:
    axes.text(0.5, 0.5, NO_DATA, ha="center", va="center", transform=axes.transAxes, color="0.4")
    axes.set_xticks([])
    axes.set_yticks([])


def render_chart(metrics: Metrics, path: Path, span: Window) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    draw(metrics, span).savefig(path, format="png", dpi=100)
    return path


def draw(metrics: Metrics, span: Window) -> Any:
    """The chart as a matplotlib ``Figure``."""
    from matplotlib.figure import Figure

    days = metrics.days
    labels = [d.day[5:] for d in days]  # MM-DD, local dates
    positions = list(range(len(days)))
    figure = Figure(figsize=(12, 7))
    (volume, backlog), (breaches, csat) = figure.subplots(2, 2, width_ratios=(3, 1))

    opened = [d.opened for d in days]
    resolved = [d.resolved for d in days]
    volume.set_title(f"Cases per day — {span.label}")
    if any(opened) or any(resolved):
        volume.bar([p - 0.2 for p in positions], opened, 0.4, label="opened", color="tab:blue")
        volume.bar(
            [p + 0.2 for p in positions], resolved, 0.4, label="resolved", color="tab:orange"
        )
        volume.legend()
        _counts_axis(volume, "cases", opened + resolved)
        volume.set_xticks(positions, labels, rotation=45, fontsize=7)
        volume.set_xlabel(f"local day ({span.timezone})")
    else:
        _no_data(volume)

    open_at_end = [d.backlog for d in days]
    backlog.set_title("Open at each day's end")
    if any(open_at_end):
        backlog.plot(positions, open_at_end, marker="o", color="tab:purple")
        _counts_axis(backlog, "open cases", open_at_end)
        backlog.set_xticks(positions, labels, rotation=45, fontsize=6)
        backlog.set_xlabel("local day")
    else:
        _no_data(backlog)

    breached = [d.breached for d in days]
    breaches.set_title("SLA targets breached, by the day the case opened")
    if metrics.opened:
        breaches.bar(positions, breached, 0.6, color="tab:red")
        _counts_axis(breaches, "targets breached", breached)
        breaches.set_xticks(positions, labels, rotation=45, fontsize=7)
        breaches.set_xlabel(f"local day ({span.timezone})")
    else:
        _no_data(breaches)

    scores = list(range(1, 6))
    ratings = [metrics.csat_distribution.get(s, 0) for s in scores]
    csat.set_title(f"CSAT (n = {metrics.csat_count})")
    if metrics.csat_count:
        csat.bar(scores, ratings, color="tab:green")
        csat.set_xticks(scores)
        csat.set_xlabel("rating")
        _counts_axis(csat, "ratings", ratings)
    else:
        _no_data(csat)

    figure.tight_layout()
    return figure
