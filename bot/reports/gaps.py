"""Knowledge gaps: what customers ask that the desk does not cover, grouped by meaning and
ranked.

The signals of ``[since, until)`` and of the period of the same length before it
(``gap_signals``) are encoded with the bot's own sentence encoder and clustered together
(``gap_clusters``), so a gap's count this period and last period are counts of the same group.
A gap is ranked by how often it came up this period, then by the cases it became.

``top_gaps`` is the seam other views (the digest, ``helpdesk kb gaps``, the ``gaps`` admin
verb, a dashboard) read.
"""

from __future__ import annotations

import asyncio
import functools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from bot.reports.gap_clusters import GAP_DISTANCE, cluster_labels
from bot.reports.gap_signals import Signal, collect_signals, normalized

EXAMPLES = 3


class Encoder(Protocol):
    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class Gap:
    rank: int
    count: int  # signals this period
    previous: int  # signals of the same group in the period before
    examples: tuple[str, ...]  # the most frequent questions, as asked
    cases: tuple[int, ...]  # the cases its questions became
    kinds: dict[str, int]  # this period's signals by kind: missed, unhelpful, case
    keys: tuple[str, ...]  # this period's signals ("missed:12" …): for drafts and examples

    @property
    def trend(self) -> str:
        if not self.previous:
            return "new"
        if self.count == self.previous:
            return "same"
        return "up" if self.count > self.previous else "down"

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "count": self.count,
            "previous": self.previous,
            "trend": self.trend,
            "examples": list(self.examples),
            "cases": list(self.cases),
            "kinds": dict(self.kinds),
            "signals": list(self.keys),
        }


@functools.cache
def bundled_encoder() -> Encoder:
    """The bot's encoder (all-MiniLM-L6-v2 from site-packages), loaded on first use, for
    callers that hold none (a dashboard, the scheduler); the desk passes its own."""
    from nlu.embedding import CachingEmbedder, SentenceTransformerEmbedder

    return CachingEmbedder(SentenceTransformerEmbedder())


async def top_gaps(
    session: AsyncSession,
    *,
    since: datetime,
    until: datetime,
    limit: int,
    encoder: Encoder | None = None,
    distance: float = GAP_DISTANCE,
) -> list[Gap]:
    """The ``limit`` largest knowledge gaps of ``[since, until)``, ranked (1 is the largest),
    each with its count in the period of the same length before. Reads only; encoding runs off
    the event loop, and nothing is encoded (no model loaded) when there is nothing to group."""
    before = since - (until - since)
    signals = await collect_signals(session, before, until)
    if not any(s.at >= since for s in signals):
        return []
    texts = list(dict.fromkeys(normalized(s.text) for s in signals))
    vectors = await asyncio.to_thread((encoder or bundled_encoder()).encode, texts)
    label_of = dict(zip(texts, cluster_labels(vectors, distance), strict=True))
    groups: dict[int, list[Signal]] = {}
    for signal in signals:
        groups.setdefault(label_of[normalized(signal.text)], []).append(signal)
    gaps = [_gap(members, since) for members in groups.values()]
    ranked = sorted(
        (g for g in gaps if g.count),
        key=lambda g: (-g.count, -len(g.cases), g.examples),
    )
    return [_ranked(g, rank) for rank, g in enumerate(ranked[:limit], start=1)]


def _gap(members: list[Signal], since: datetime) -> Gap:
    now = [s for s in members if s.at >= since]
    asked = Counter(normalized(s.text) for s in now)
    first_wording: dict[str, str] = {}
    for s in now:
        first_wording.setdefault(normalized(s.text), s.text.strip())
    examples = tuple(first_wording[t] for t, _ in asked.most_common(EXAMPLES))
    return Gap(
        rank=0,
        count=len(now),
        previous=len(members) - len(now),
        examples=examples,
        cases=tuple(sorted({s.case for s in now if s.case is not None})),
        kinds=dict(Counter(s.kind for s in now)),
        keys=tuple(s.key for s in now),
    )


def _ranked(gap: Gap, rank: int) -> Gap:
    return Gap(rank, gap.count, gap.previous, gap.examples, gap.cases, gap.kinds, gap.keys)
