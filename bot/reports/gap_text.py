"""A ranked gap list as people read it: in chat (``gaps``), in ``helpdesk kb gaps`` and in the
weekly digest. Customers' words are shown short, quoted, and through ``shown`` (which makes
them safe for the channel: no mentions that ping, contacts masked where the desk says so)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.reports.gaps import Gap
from bot.text import neutralize_mentions

QUOTE_MAX = 80
_KINDS = (("missed", "not answered"), ("unhelpful", "said not to help"), ("case", "became cases"))


def trend(gap: Gap) -> str:
    if gap.trend == "new":
        return "new"
    change = gap.count - gap.previous
    arrow = "▲" if change > 0 else "▼" if change < 0 else "="
    return f"{arrow} from {gap.previous}"


def quote(text: str, shown: Callable[[str], str] = neutralize_mentions) -> str:
    one_line = " ".join(text.split())
    if len(one_line) > QUOTE_MAX:
        one_line = one_line[: QUOTE_MAX - 1].rstrip() + "…"
    return f"“{shown(one_line)}”"


def gap_line(gap: Gap, shown: Callable[[str], str] = neutralize_mentions) -> str:
    """``2. 5× (▲ from 2) “…” · “…” — 3 not answered, 2 became cases (#4, #9)``"""
    examples = " · ".join(quote(e, shown) for e in gap.examples)
    kinds = ", ".join(f"{gap.kinds[k]} {label}" for k, label in _KINDS if gap.kinds.get(k))
    numbers = ", ".join(f"#{n}" for n in gap.cases[:5]) + ("…" if len(gap.cases) > 5 else "")
    cases = f" ({numbers})" if gap.cases else ""
    return f"{gap.rank}. {gap.count}× ({trend(gap)}) {examples} — {kinds}{cases}"


def gap_list(gaps: Sequence[Gap], shown: Callable[[str], str] = neutralize_mentions) -> list[str]:
    return [gap_line(g, shown) for g in gaps]
