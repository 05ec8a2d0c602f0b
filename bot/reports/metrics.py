"""The numbers behind the manager digests and ``stats``, for one window ``[start, end)``.

Definitions (the digest's footnotes refer here):

- *opened*: cases created in the window; *resolved*: cases whose ``resolved_at`` is in it.
- *backlog*: cases open now (new, open, pending) that were created before the window's end,
  by status and by priority.
- *first response time*: ``first_response_at - created_at`` for cases first answered in the
  window; *resolution time*: ``resolved_at - created_at`` for cases resolved in it. Wall-clock
  durations. The median is the middle value (the mean of the two middle ones); p90 is the
  nearest-rank 90th percentile (the smallest value at or above 90 % of the sample).
- *SLA attainment*: of those first responses / resolutions with a due time, the share on or
  before it; *breaches*: ``sla_breach`` lines written in the window.
- *confirmed deflections*: suggestions shown in the window that the customer marked helpful;
  *assumed deflections*: suggestions left unanswered, when that conversation opened no case and
  said "not helpful" to nothing within 24 h — counted only once those 24 h are over (until
  then they are *undecided*).
- *CSAT*: ratings of cases resolved in the window: mean and distribution 1–5.
- *reopen rate*: of the cases resolved in the window, the share reopened at least once.
- *top unanswered questions*: queries marked "not helpful" in the window, and subjects of
  cases opened in it with no suggestion shown in that conversation in the 24 h before.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from bot.clock import on_time
from bot.storage.inbox import failed_count
from bot.storage.models import AnswerFeedback, Case, CaseEvent
from bot.storage.outbox import delivery_counts
from bot.storage.uow import UnitOfWork

DEFLECTION_WINDOW = timedelta(hours=24)
ACTIVE = ("new", "open", "pending")
TOP = 5


@dataclass(frozen=True)
class Durations:
    count: int = 0
    median_s: float | None = None
    p90_s: float | None = None

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Durations:
        if not seconds:
            return cls()
        ordered = sorted(seconds)
        rank = math.ceil(0.9 * len(ordered))
        return cls(len(ordered), float(statistics.median(ordered)), float(ordered[rank - 1]))


@dataclass(frozen=True)
class Attainment:
    met: int = 0
    total: int = 0

    @property
    def rate(self) -> float | None:
        return self.met / self.total if self.total else None


@dataclass(frozen=True)
class AgentLoad:
    agent: str
    claimed: int = 0
    resolved: int = 0
    open_now: int = 0


@dataclass(frozen=True)
class Metrics:
    start: datetime
    end: datetime
    opened: int = 0
    resolved: int = 0
    backlog_by_status: dict[str, int] = field(default_factory=dict)
    backlog_by_priority: dict[str, int] = field(default_factory=dict)
    suggestions_shown: int = 0
    deflected_confirmed: int = 0
    deflected_assumed: int = 0
    deflection_undecided: int = 0
    first_response: Durations = Durations()
    resolution: Durations = Durations()
    first_response_sla: Attainment = Attainment()
    resolution_sla: Attainment = Attainment()
    sla_breaches: int = 0
    csat_count: int = 0
    csat_average: float | None = None
    csat_distribution: dict[int, int] = field(default_factory=dict)
    reopened: int = 0
    # outgoing messages given up on (parked), now — not only in the window: they wait for someone
    undelivered: int = 0
    # inbound messages kept as failed after their last attempt, now (likewise)
    unhandled: int = 0
    top_intents: list[tuple[str, int]] = field(default_factory=list)
    top_unanswered: list[tuple[str, int]] = field(default_factory=list)
    agents: list[AgentLoad] = field(default_factory=list)
    opened_per_day: list[tuple[str, int]] = field(default_factory=list)
    resolved_per_day: list[tuple[str, int]] = field(default_factory=list)

    @property
    def backlog(self) -> int:
        return sum(self.backlog_by_status.values())

    @property
    def reopen_rate(self) -> float | None:
        return self.reopened / self.resolved if self.resolved else None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types (``--json``, ``JobRun.result``)."""

        def durations(d: Durations) -> dict[str, Any]:
            return {"count": d.count, "median_seconds": d.median_s, "p90_seconds": d.p90_s}

        def attainment(a: Attainment) -> dict[str, Any]:
            return {"met": a.met, "total": a.total, "rate": a.rate}

        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "opened": self.opened,
            "resolved": self.resolved,
            "backlog": self.backlog,
            "backlog_by_status": self.backlog_by_status,
            "backlog_by_priority": self.backlog_by_priority,
            "deflection": {
                "suggestions_shown": self.suggestions_shown,
                "confirmed": self.deflected_confirmed,
                "assumed": self.deflected_assumed,
                "undecided": self.deflection_undecided,
            },
            "first_response": durations(self.first_response),
            "resolution": durations(self.resolution),
            "sla": {
                "first_response": attainment(self.first_response_sla),
                "resolution": attainment(self.resolution_sla),
                "breaches": self.sla_breaches,
            },
            "csat": {
                "count": self.csat_count,
                "average": self.csat_average,
                "distribution": {str(k): v for k, v in self.csat_distribution.items()},
            },
            "reopened": self.reopened,
            "undelivered": self.undelivered,
            "unhandled": self.unhandled,
            "reopen_rate": self.reopen_rate,
            "top_intents": [list(pair) for pair in self.top_intents],
            "top_unanswered": [list(pair) for pair in self.top_unanswered],
            "agents": [vars(a) for a in self.agents],
            "opened_per_day": [list(pair) for pair in self.opened_per_day],
            "resolved_per_day": [list(pair) for pair in self.resolved_per_day],
        }


def _in(column: Any, start: datetime, end: datetime) -> Any:
    return column.is_not(None) & (column >= start) & (column < end)


async def collect(uow: UnitOfWork, start: datetime, end: datetime, now: datetime) -> Metrics:
    """Every figure of a digest for ``[start, end)``; ``now`` decides which 24 h deflection
    windows are over."""
    session = uow.session

    async def cases(*conditions: Any) -> list[Case]:
        return list(await session.scalars(select(Case).where(*conditions).order_by(Case.id)))

    opened = await cases(_in(Case.created_at, start, end))
    resolved = await cases(_in(Case.resolved_at, start, end))
    answered = await cases(_in(Case.first_response_at, start, end))
    claimed = await cases(_in(Case.claimed_at, start, end))
    backlog = await cases(Case.status.in_(ACTIVE), Case.created_at < end)
    breaches = await session.scalar(
        select(func.count())
        .select_from(CaseEvent)
        .where(CaseEvent.kind == "sla_breach", _in(CaseEvent.created_at, start, end))
    )
    deflection = await _deflection(uow, start, end, now)
    ratings = [c.csat for c in resolved if c.csat is not None]
    return Metrics(
        start=start,
        end=end,
        opened=len(opened),
        resolved=len(resolved),
        backlog_by_status=dict(Counter(c.status for c in backlog)),
        backlog_by_priority=dict(Counter(c.priority for c in backlog)),
        suggestions_shown=deflection[0],
        deflected_confirmed=deflection[1],
        deflected_assumed=deflection[2],
        deflection_undecided=deflection[3],
        first_response=Durations.of(
            [(c.first_response_at - c.created_at).total_seconds() for c in answered]  # type: ignore[operator]
        ),
        resolution=Durations.of(
            [(c.resolved_at - c.created_at).total_seconds() for c in resolved]  # type: ignore[operator]
        ),
        first_response_sla=_attainment(
            [(c.first_response_at, c.first_response_due_at) for c in answered]
        ),
        resolution_sla=_attainment([(c.resolved_at, c.resolution_due_at) for c in resolved]),
        sla_breaches=int(breaches or 0),
        csat_count=len(ratings),
        csat_average=statistics.fmean(ratings) if ratings else None,
        csat_distribution={score: ratings.count(score) for score in range(1, 6)},
        reopened=sum(1 for c in resolved if (c.reopen_count or 0) > 0),
        undelivered=(await delivery_counts(session))["parked"],
        unhandled=await failed_count(session),
        top_intents=Counter(c.intent for c in opened if c.intent).most_common(TOP),
        top_unanswered=await _unanswered(uow, opened, start, end),
        agents=_agents(claimed, resolved, backlog),
        opened_per_day=_per_day([c.created_at for c in opened]),
        resolved_per_day=_per_day([c.resolved_at for c in resolved if c.resolved_at]),
    )


def _attainment(pairs: Sequence[tuple[datetime | None, datetime | None]]) -> Attainment:
    timed = [(done, due) for done, due in pairs if done is not None and due is not None]
    return Attainment(met=sum(1 for done, due in timed if on_time(done, due)), total=len(timed))


async def _deflection(
    uow: UnitOfWork, start: datetime, end: datetime, now: datetime
) -> tuple[int, int, int, int]:
    """(shown, confirmed, assumed, undecided)."""
    shown = list(
        await uow.session.scalars(
            select(AnswerFeedback)
            .where(_in(AnswerFeedback.created_at, start, end))
            .order_by(AnswerFeedback.id)
        )
    )
    unanswered = [f for f in shown if f.helpful is None]
    conversations = {f.conversation for f in unanswered}
    later_cases: dict[str, list[datetime]] = {}
    later_noes: dict[str, list[datetime]] = {}
    if conversations:
        horizon = end + DEFLECTION_WINDOW
        for conversation, created in await uow.session.execute(
            select(Case.conversation, Case.created_at).where(
                Case.conversation.in_(conversations), Case.created_at < horizon
            )
        ):
            later_cases.setdefault(conversation, []).append(created)
        for conversation, created in await uow.session.execute(
            select(AnswerFeedback.conversation, AnswerFeedback.created_at).where(
                AnswerFeedback.conversation.in_(conversations),
                AnswerFeedback.helpful.is_(False),
                AnswerFeedback.created_at < horizon,
            )
        ):
            later_noes.setdefault(conversation, []).append(created)
    assumed = undecided = 0
    for row in unanswered:
        closes = row.created_at + DEFLECTION_WINDOW

        def within(times: list[datetime], opened_at: datetime = row.created_at) -> bool:
            return any(opened_at <= t < opened_at + DEFLECTION_WINDOW for t in times)

        if within(later_cases.get(row.conversation, [])) or within(
            later_noes.get(row.conversation, [])
        ):
            continue
        if closes <= now:
            assumed += 1
        else:
            undecided += 1
    confirmed = sum(1 for f in shown if f.helpful is True)
    return len(shown), confirmed, assumed, undecided


async def _unanswered(
    uow: UnitOfWork, opened: Sequence[Case], start: datetime, end: datetime
) -> list[tuple[str, int]]:
    texts: list[str] = list(
        await uow.session.scalars(
            select(AnswerFeedback.query)
            .where(AnswerFeedback.helpful.is_(False), _in(AnswerFeedback.created_at, start, end))
            .order_by(AnswerFeedback.id)
        )
    )
    if opened:
        shown_before: dict[str, list[datetime]] = {}
        for conversation, created in await uow.session.execute(
            select(AnswerFeedback.conversation, AnswerFeedback.created_at).where(
                AnswerFeedback.conversation.in_({c.conversation for c in opened}),
                AnswerFeedback.created_at >= start - DEFLECTION_WINDOW,
                AnswerFeedback.created_at < end,
            )
        ):
            shown_before.setdefault(conversation, []).append(created)
        for case in opened:
            times = shown_before.get(case.conversation, [])
            if not any(case.created_at - DEFLECTION_WINDOW <= t <= case.created_at for t in times):
                texts.append(case.subject)
    counts = Counter(" ".join(text.lower().split()).rstrip("?!. ") for text in texts if text)
    return counts.most_common(TOP)


def _agents(
    claimed: Sequence[Case], resolved: Sequence[Case], backlog: Sequence[Case]
) -> list[AgentLoad]:
    """Per agent: cases claimed and resolved in the window, and cases they hold now (a case
    counts for whoever holds it now)."""
    took = Counter(c.assignee_name for c in claimed if c.assignee_name)
    done = Counter(c.assignee_name for c in resolved if c.assignee_name)
    holding = Counter(c.assignee_name for c in backlog if c.assignee_name)
    names = sorted(set(took) | set(done) | set(holding), key=lambda n: (-done[n], n))
    return [AgentLoad(n, took[n], done[n], holding[n]) for n in names]


def _per_day(times: Sequence[datetime]) -> list[tuple[str, int]]:
    return sorted(Counter(t.date().isoformat() for t in times).items())
