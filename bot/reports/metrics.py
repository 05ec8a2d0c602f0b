"""The figures behind the manager digests and ``stats``, for one window ``[start, end)``.

Every figure is a function of the recorded history before ``end`` — the cases' audit trails
(``case_events``) and the answers shown (``answer_feedback``) — never of a case row's current
state, so a digest taken again later with the same window reproduces exactly. Each figure's
definition is in ``bot.reports.definitions`` (``helpdesk digest --explain``) and in
docs/sla-and-digests.md.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select

from bot.reports.deflection import WINDOW, Breakdown, breakdown
from bot.reports.sla_figures import (
    LateNow,
    SlaClock,
    Target,
    first_response,
    late_now,
    resolution,
    target,
)
from bot.reports.timeline import ACTIVE, Timeline, actor
from bot.storage.models import AnswerFeedback, Case, CaseEvent
from bot.storage.uow import UnitOfWork

TOP = 5
FEW = 5  # below this many cases a median or p90 is marked as a rough figure
# how a customer asked rather than what about: never shown as a topic
NOT_TOPICS = frozenset({"human_handoff", "complaint_urgent"})


@dataclass(frozen=True)
class Durations:
    """Business time (what the SLA counts) and clock time, over ``count`` cases."""

    count: int = 0
    median_s: float | None = None
    p90_s: float | None = None
    clock_median_s: float | None = None
    clock_p90_s: float | None = None

    @classmethod
    def of(cls, pairs: Sequence[tuple[float, float]]) -> Durations:
        if not pairs:
            return cls()
        business = [b for b, _ in pairs]
        clock = [c for _, c in pairs]
        return cls(len(pairs), _median(business), _p90(business), _median(clock), _p90(clock))

    @property
    def few(self) -> bool:
        return 0 < self.count < FEW


def _median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def _p90(values: Sequence[float]) -> float:
    """Nearest rank: the smallest value at or above 90 % of the sample."""
    ordered = sorted(values)
    return float(ordered[math.ceil(0.9 * len(ordered)) - 1])


@dataclass(frozen=True)
class AgentCredit:
    agent: str
    claimed: int = 0
    replied: int = 0  # replies to customers
    resolved: int = 0
    holding: int = 0  # open cases they held at the window's end


@dataclass(frozen=True)
class Day:
    day: str  # local date, ISO
    opened: int = 0
    resolved: int = 0
    backlog: int = 0  # open at the day's end
    breached: int = 0  # SLA targets of cases opened that day breached (as of the window's end)


@dataclass(frozen=True)
class Metrics:
    start: datetime
    end: datetime
    opened: int = 0
    resolved: int = 0
    reopened: int = 0  # reopens in the window
    resolved_then_reopened: int = 0  # of the window's resolutions, reopened by its end
    previous_opened: int = 0
    previous_resolved: int = 0
    backlog_by_status: dict[str, int] = field(default_factory=dict)
    backlog_by_priority: dict[str, int] = field(default_factory=dict)
    late: LateNow = field(default_factory=LateNow)
    deflection: Breakdown = field(default_factory=Breakdown)
    # the previous window's undecided answers, as they stand at this window's end
    earlier_undecided: Breakdown = field(default_factory=Breakdown)
    first_response: Durations = Durations()
    resolution: Durations = Durations()
    first_response_sla: Target = field(default_factory=Target)
    resolution_sla: Target = field(default_factory=Target)
    csat_distribution: dict[int, int] = field(default_factory=dict)
    csat_resolutions: int = 0  # the window's resolutions …
    csat_rated: int = 0  # … of which rated by its end
    top_topics: list[tuple[str, int]] = field(default_factory=list)
    without_topic: int = 0
    top_unanswered: list[tuple[str, int]] = field(default_factory=list)
    agents: list[AgentCredit] = field(default_factory=list)
    days: list[Day] = field(default_factory=list)

    @property
    def backlog(self) -> int:
        return sum(self.backlog_by_status.values())

    @property
    def sla_breaches(self) -> int:
        return self.first_response_sla.breached + self.resolution_sla.breached

    @property
    def csat_count(self) -> int:
        return sum(self.csat_distribution.values())

    @property
    def csat_average(self) -> float | None:
        if not self.csat_count:
            return None
        return sum(k * v for k, v in self.csat_distribution.items()) / self.csat_count

    @property
    def csat_response_rate(self) -> float | None:
        return self.csat_rated / self.csat_resolutions if self.csat_resolutions else None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types (``--json``, ``JobRun.result``)."""
        plain = asdict(self)
        plain.update(
            start=self.start.isoformat(),
            end=self.end.isoformat(),
            backlog=self.backlog,
            deflection={
                **self.deflection.as_dict(),
                "shown": self.deflection.shown,
                "rate": self.deflection.rate,
            },
            earlier_undecided=self.earlier_undecided.as_dict(),
            sla_breaches=self.sla_breaches,
            csat_distribution={str(k): v for k, v in self.csat_distribution.items()},
            csat_average=self.csat_average,
            csat_response_rate=self.csat_response_rate,
            top_topics=[list(pair) for pair in self.top_topics],
            top_unanswered=[list(pair) for pair in self.top_unanswered],
        )
        for name in ("first_response_sla", "resolution_sla"):
            target: Target = getattr(self, name)
            plain[name]["rate"] = target.rate
        return plain


@dataclass(frozen=True)
class Span:
    """The window, the one before it (for trends and corrections), and the local zone."""

    start: datetime
    end: datetime
    previous_start: datetime
    timezone: str = "UTC"


async def collect(uow: UnitOfWork, span: Span, sla: SlaClock) -> Metrics:
    """Every figure of a digest for ``span`` from the history recorded before its end."""
    start, end = span.start, span.end
    timelines = await _timelines(uow, span)
    feedback = list(
        await uow.session.scalars(
            select(AnswerFeedback)
            .where(
                AnswerFeedback.created_at >= min(span.previous_start, start - WINDOW),
                AnswerFeedback.created_at < end,
            )
            .order_by(AnswerFeedback.created_at, AnswerFeedback.id)
        )
    )
    openings: dict[str, list[datetime]] = {}
    for conversation, created in await uow.session.execute(
        select(Case.conversation, Case.created_at).where(
            Case.created_at >= span.previous_start, Case.created_at < end
        )
    ):
        openings.setdefault(conversation, []).append(created)

    def inside(at: datetime, lo: datetime = start, hi: datetime = end) -> bool:
        return lo <= at < hi

    opened = [t for t in timelines if inside(t.case.created_at)]
    resolutions = [(t, e) for t in timelines for e in t.resolutions if inside(e.created_at)]
    open_at_end = [t for t in timelines if t.active]
    shown = [f for f in feedback if inside(f.created_at)]
    earlier = [f for f in feedback if inside(f.created_at, span.previous_start, start)]
    deflection, _ = breakdown(shown, end, feedback, openings)
    _, earlier_then = breakdown(earlier, start, feedback, openings)
    still_open = [f for f, was in zip(earlier, earlier_then, strict=True) if was == "undecided"]
    corrected, _ = breakdown(still_open, end, feedback, openings)
    outcomes = {t.case.id: (first_response(t, sla, end), resolution(t, sla, end)) for t in opened}
    ratings = _last_ratings(timelines, start, end)
    topics = Counter(t.case.intent for t in opened)
    return Metrics(
        start=start,
        end=end,
        opened=len(opened),
        resolved=len(resolutions),
        reopened=sum(1 for t in timelines for e in t.reopens if inside(e.created_at)),
        resolved_then_reopened=sum(
            1 for t, r in resolutions if any(e.created_at > r.created_at for e in t.reopens)
        ),
        previous_opened=sum(
            1 for t in timelines if inside(t.case.created_at, span.previous_start, start)
        ),
        previous_resolved=sum(
            1
            for t in timelines
            for e in t.resolutions
            if inside(e.created_at, span.previous_start, start)
        ),
        backlog_by_status=dict(Counter(t.status for t in open_at_end)),
        backlog_by_priority=dict(Counter(t.priority for t in open_at_end)),
        late=late_now(open_at_end, sla, end),
        deflection=deflection,
        earlier_undecided=corrected,
        first_response=Durations.of(
            [
                _both(sla, t.case.created_at, reply.created_at)
                for t in timelines
                if (reply := t.first_reply) is not None and inside(reply.created_at)
            ]
        ),
        resolution=Durations.of(
            [_both(sla, t.work_started(r), r.created_at) for t, r in resolutions]
        ),
        first_response_sla=target(first for first, _ in outcomes.values()),
        resolution_sla=target(second for _, second in outcomes.values()),
        csat_distribution={score: ratings.count(score) for score in range(1, 6)},
        csat_resolutions=len(resolutions),
        csat_rated=sum(1 for t, r in resolutions if t.rated(r)),
        top_topics=Counter(
            {k: v for k, v in topics.items() if k and k not in NOT_TOPICS}
        ).most_common(TOP),
        without_topic=sum(v for k, v in topics.items() if not k or k in NOT_TOPICS),
        top_unanswered=_unanswered(opened, feedback, start, end),
        agents=_agents(timelines, open_at_end, start, end),
        days=_days(timelines, outcomes, span),
    )


async def _timelines(uow: UnitOfWork, span: Span) -> list[Timeline]:
    """The cases the window can see: opened before its end and still open now, or with any
    line of their trail since the previous window began (a case open at the window's end and
    closed since has its closing line after it). Their trails are cut at the window's end."""
    touched = select(CaseEvent.case_id).where(CaseEvent.created_at >= span.previous_start)
    seen = (Case.created_at < span.end) & or_(
        Case.status.in_(ACTIVE), Case.created_at >= span.previous_start, Case.id.in_(touched)
    )
    cases = {c.id: c for c in await uow.session.scalars(select(Case).where(seen).order_by(Case.id))}
    trails: dict[int, list[CaseEvent]] = {number: [] for number in cases}
    for event in await uow.session.scalars(
        select(CaseEvent)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(seen, CaseEvent.created_at < span.end)
        .order_by(CaseEvent.created_at, CaseEvent.id)
    ):
        trails[event.case_id].append(event)
    return [Timeline(cases[number], trail) for number, trail in trails.items()]


def _both(sla: SlaClock, begin: datetime, done: datetime) -> tuple[float, float]:
    return sla.business_seconds(begin, done), (done - begin).total_seconds()


def _last_ratings(timelines: Sequence[Timeline], start: datetime, end: datetime) -> list[int]:
    """The scores given in the window, the last one per case (a changed mind counts once)."""
    scores = []
    for t in timelines:
        given = [e for e in t.ratings if start <= e.created_at < end]
        if given:
            scores.append(int(given[-1].data["rating"]))
    return scores


def _unanswered(
    opened: Sequence[Timeline], feedback: Sequence[AnswerFeedback], start: datetime, end: datetime
) -> list[tuple[str, int]]:
    """Queries said "not helpful" to in the window, and subjects of cases opened in it with no
    answer shown in that conversation in the 24 h before."""
    texts = [
        f.query
        for f in feedback
        if f.helpful is False
        and start <= f.created_at < end
        and (f.answered_at or f.created_at) < end
    ]
    for t in opened:
        case = t.case
        if not any(
            f.conversation == case.conversation
            and case.created_at - WINDOW <= f.created_at <= case.created_at
            for f in feedback
        ):
            texts.append(case.subject)
    counts = Counter(" ".join(text.lower().split()).rstrip("?!. ") for text in texts if text)
    return counts.most_common(TOP)


def _agents(
    timelines: Sequence[Timeline], open_at_end: Sequence[Timeline], start: datetime, end: datetime
) -> list[AgentCredit]:
    """Per person, from the trail: claims, replies and resolutions they made in the window (an
    automatic release takes nothing back), and the open cases they held at its end."""
    claimed: Counter[str] = Counter()
    replied: Counter[str] = Counter()
    resolved: Counter[str] = Counter()
    for t in timelines:
        for e in t.events:
            if not start <= e.created_at < end:
                continue
            if e.kind == "claim":
                claimed[actor(e)] += 1
            elif e.kind == "agent_message":
                replied[actor(e)] += 1
            elif e.author != "bot" and e in t.resolutions:
                resolved[actor(e)] += 1
    holding = Counter(h for t in open_at_end if (h := t.holder))
    names = sorted(
        set(claimed) | set(replied) | set(resolved) | set(holding),
        key=lambda n: (-resolved[n], -replied[n], n),
    )
    return [AgentCredit(n, claimed[n], replied[n], resolved[n], holding[n]) for n in names]


def _days(
    timelines: Sequence[Timeline], outcomes: dict[int, tuple[str, str]], span: Span
) -> list[Day]:
    """Every local day of the window, with or without activity."""
    tz = ZoneInfo(span.timezone)
    day = span.start.astimezone(tz).date()
    last = (span.end - timedelta(microseconds=1)).astimezone(tz).date()
    days = []
    while day <= last:
        lo = datetime.combine(day, time(0), tz).astimezone(UTC)
        hi = min(datetime.combine(day + timedelta(days=1), time(0), tz).astimezone(UTC), span.end)
        lo = max(lo, span.start)
        mine = [t for t in timelines if lo <= t.case.created_at < hi]
        days.append(
            Day(
                day=day.isoformat(),
                opened=len(mine),
                resolved=sum(
                    1 for t in timelines for e in t.resolutions if lo <= e.created_at < hi
                ),
                backlog=sum(1 for t in timelines if t.case.created_at < hi and t.before(hi).active),
                breached=sum(outcomes[t.case.id].count("breached") for t in mine),
            )
        )
        day += timedelta(days=1)
    return days
