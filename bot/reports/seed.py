"""A realistic, reproducible demo history (``helpdesk db seed --demo``): a few hundred cases
over eight weeks with claims, replies, pending spells, resolutions, reopenings, CSAT, SLA
breaches and answer feedback — enough for digests and ``stats`` to show something real.

The same ``seed`` and ``until`` always give the same rows. SLA due times come from the caller
(``due_times``), so this module needs nothing of the escalation service.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from bot.storage.models import AnswerFeedback, Case, CaseEvent, Customer, CustomerIdentity
from bot.storage.uow import UnitOfWork

AGENTS = (
    ("slack:U01DANA", "Dana"),
    ("slack:U02EVE", "Eve"),
    ("telegram:7001", "Farid"),
    ("discord:4201", "Grace"),
)
# (intent, what customers write, weight)
TOPICS = (
    ("order_status", "Where is my order?", 24),
    ("order_status", "My parcel hasn't arrived yet", 8),
    ("billing", "I was charged twice for one order", 12),
    ("billing", "Can I get an invoice with my company name?", 5),
    ("device_setup", "My hub won't pair with the new bulb", 14),
    ("device_setup", "The app can't find my light strip", 8),
    ("account", "I can't log in to my account", 10),
    ("returns", "How do I return a lamp?", 7),
    ("shipping", "Do you ship to Norway?", 4),
    (None, "The lights flicker when the dimmer is low", 6),
    (None, "Is the outdoor spot waterproof in heavy rain?", 4),
)
ARTICLES = ("track-your-order", "refunds", "pair-a-bulb", "reset-your-password", "returns")
PRIORITIES = (("low", 15), ("normal", 60), ("high", 20), ("urgent", 5))
PLATFORMS = ("slack", "telegram", "discord", "terminal")
CSAT = ((1, 5), (2, 7), (3, 13), (4, 30), (5, 45))
CUSTOMERS = 140
T = TypeVar("T")
ANSWERS: tuple[tuple[bool | None, int], ...] = ((True, 45), (False, 12), (None, 43))


@dataclass(frozen=True)
class SeedSummary:
    customers: int
    cases: int
    feedback: int
    start: datetime
    until: datetime


def _pick(rng: random.Random, weighted: Sequence[tuple[T, int]]) -> T:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def _minutes(rng: random.Random, median: float) -> timedelta:
    """A long-tailed duration around ``median`` minutes."""
    return timedelta(minutes=max(1.0, rng.lognormvariate(0, 0.9) * median))


async def seed_demo(
    uow: UnitOfWork,
    *,
    until: datetime,
    seed: int = 7,
    weeks: int = 8,
    due_times: Callable[[Case], None] | None = None,
) -> SeedSummary:
    """Write the demo history ending at ``until`` (into an empty database)."""
    rng = random.Random(seed)
    until = until.replace(second=0, microsecond=0)
    start = (until - timedelta(weeks=weeks)).replace(hour=0, minute=0)
    customers = await _customers(uow, rng, start)
    cases = feedback = 0
    day = start
    while day < until:
        weekend = day.weekday() >= 5
        for _ in range(rng.randint(1, 3) if weekend else rng.randint(3, 8)):
            hour = rng.choice((8, 9, 9, 10, 10, 11, 13, 14, 14, 15, 16, 17, 19, 21))
            opened = day + timedelta(hours=hour, minutes=rng.randint(0, 59))
            if opened >= until:
                continue
            customer = rng.choice(customers)
            feedback += await _case(uow, rng, customer, opened, until, due_times)
            cases += 1
        for _ in range(rng.randint(4, 12)):
            shown = day + timedelta(minutes=rng.randint(7 * 60, 22 * 60))
            if shown < until:
                _suggestion(uow, rng, rng.choice(customers), shown, until)
                feedback += 1
        day += timedelta(days=1)
    await uow.session.flush()
    return SeedSummary(len(customers), cases, feedback, start, until)


async def _customers(
    uow: UnitOfWork, rng: random.Random, start: datetime
) -> list[tuple[int, str, str]]:
    """(customer id, name, conversation) for each demo customer."""
    names = ("Ada", "Ben", "Chloé", "Dmitri", "Esra", "Femi", "Gita", "Hugo", "Ines", "Jonas")
    people = []
    for index in range(CUSTOMERS):
        platform = PLATFORMS[index % len(PLATFORMS)]
        name = f"{names[index % len(names)]} {chr(65 + index // len(names))}."
        customer = Customer(
            display_name=name, created_at=start - timedelta(days=rng.randint(1, 400))
        )
        uow.session.add(customer)
        await uow.session.flush()
        user_id = f"u{index:03d}"
        uow.session.add(
            CustomerIdentity(
                customer_id=customer.id,
                platform=platform,
                platform_user_id=user_id,
                display_name=name,
                created_at=customer.created_at,
            )
        )
        people.append((customer.id, name, f"{platform}:dm-{user_id}"))
    return people


def _suggestion(
    uow: UnitOfWork,
    rng: random.Random,
    customer: tuple[int, str, str],
    shown: datetime,
    until: datetime,
    helpful: bool | None = None,
    query: str | None = None,
) -> None:
    answer = helpful if query else _pick(rng, ANSWERS)
    answered = shown + timedelta(minutes=rng.randint(1, 20))
    uow.session.add(
        AnswerFeedback(
            conversation=customer[2],
            customer_id=customer[0],
            query=query or rng.choice(TOPICS)[1],
            article_slug=rng.choice(ARTICLES),
            score=round(rng.uniform(0.45, 0.9), 3),
            helpful=answer,
            created_at=shown,
            answered_at=answered if answer is not None and answered < until else None,
        )
    )


async def _case(
    uow: UnitOfWork,
    rng: random.Random,
    customer: tuple[int, str, str],
    opened: datetime,
    until: datetime,
    due_times: Callable[[Case], None] | None,
) -> int:
    """One case and its history; returns how many feedback rows came with it."""
    customer_id, name, conversation = customer
    intent, text, _ = rng.choices(TOPICS, [w for *_, w in TOPICS])[0]
    suggested = rng.random() < 0.5  # the bot showed an article first, which did not help
    if suggested:
        _suggestion(
            uow,
            rng,
            customer,
            opened - timedelta(minutes=rng.randint(2, 10)),
            until,
            helpful=rng.choice((False, None)),
            query=text,
        )
    case = Case(
        customer_id=customer_id,
        conversation=conversation,
        subject=text,
        description=text,
        status="new",
        priority=_pick(rng, PRIORITIES),
        intent=intent,
        origin_platform=conversation.split(":")[0],
        queue="default",
        created_at=opened,
        updated_at=opened,
        reopen_count=0,
        sla_paused_seconds=0,
        sla_state={},
        tags=[],
    )
    if due_times is not None:
        due_times(case)
    uow.session.add(case)
    await uow.session.flush()
    who = f"customer:{conversation}"
    log = _Logger(uow, case)
    log("customer_message", who, text, opened, author_name=name)
    log("status_change", "bot", "opened", opened, to="new")
    _lifecycle(rng, case, log, until)
    return 1 if suggested else 0


class _Logger:
    def __init__(self, uow: UnitOfWork, case: Case) -> None:
        self._uow, self._case = uow, case

    def __call__(
        self, kind: str, author: str, body: str, at: datetime, author_name: str = "", **data: object
    ) -> None:
        self._uow.session.add(
            CaseEvent(
                case_id=self._case.id,
                kind=kind,
                author=author,
                author_name=author_name,
                body=body,
                data=dict(data),
                created_at=at,
            )
        )
        self._case.updated_at = max(self._case.updated_at, at)


def _lifecycle(rng: random.Random, case: Case, log: _Logger, until: datetime) -> None:
    agent, agent_name = rng.choice(AGENTS)
    claimed = case.created_at + _minutes(rng, 35)
    if claimed >= until or rng.random() < 0.03:
        _breaches(case, log, until)
        return
    case.assignee, case.assignee_name, case.claimed_at = agent, agent_name, claimed
    case.status = "open"
    log("claim", agent, "claimed", claimed, author_name=agent_name)
    replied = claimed + _minutes(rng, 6)
    if replied >= until:
        _breaches(case, log, until)
        return
    case.first_response_at = replied
    log(
        "agent_message",
        agent,
        "Thanks for writing — let me check that for you.",
        replied,
        author_name=agent_name,
    )
    resolved = replied + _minutes(rng, 240)
    if rng.random() < 0.15:  # waited on the customer for a while
        paused = replied + timedelta(minutes=1)
        spell = _minutes(rng, 300)
        if paused + spell >= until:
            case.status, case.pending_since, case.sla_paused_at = "pending", paused, paused
            log("status_change", agent, "pending", paused, author_name=agent_name, to="pending")
            _breaches(case, log, until)
            return
        case.sla_paused_seconds = int(spell.total_seconds())
        for column in ("first_response_due_at", "resolution_due_at"):
            due = getattr(case, column)
            if due is not None and due > paused:
                setattr(case, column, due + spell)
        resolved += spell
    if resolved >= until or rng.random() < 0.04:
        _breaches(case, log, until)
        return
    case.status, case.resolved_at = "resolved", resolved
    log("status_change", agent, "resolved", resolved, author_name=agent_name, to="resolved")
    if rng.random() < 0.06 and resolved + timedelta(hours=30) < until:
        case.reopen_count, case.reopened_at = 1, resolved + timedelta(hours=rng.randint(2, 30))
        log("reopen", f"customer:{case.conversation}", "reopened", case.reopened_at)
        case.resolved_at = case.reopened_at + _minutes(rng, 120)
        log(
            "status_change",
            agent,
            "resolved",
            case.resolved_at,
            author_name=agent_name,
            to="resolved",
        )
    if rng.random() < 0.6:
        case.csat = _pick(rng, CSAT)
        log(
            "rating",
            f"customer:{case.conversation}",
            str(case.csat),
            case.resolved_at + timedelta(minutes=3),
            rating=case.csat,
        )
    closes = case.resolved_at + timedelta(hours=72)
    if closes < until:  # the reopen window is over: closed, as the upkeep job does
        case.status, case.closed_at = "closed", closes
        log("status_change", "bot", "closed", closes, to="closed", automatic=True)
    _breaches(case, log, until)


def _breaches(case: Case, log: _Logger, until: datetime) -> None:
    """``sla_breach`` audit lines where the history missed a due time."""
    checks = (
        ("first_response", case.first_response_due_at, case.first_response_at),
        ("resolution", case.resolution_due_at, case.resolved_at),
    )
    state: dict[str, dict[str, str]] = {}
    for target, due, done in checks:
        if due is not None and due < until and (done is None or done > due):
            if target == "resolution" and case.status == "pending":
                continue
            log("sla_breach", "bot", f"{target} breach", due, author_name="SLA", target=target)
            state[target] = {"warning": due.isoformat(), "breach": due.isoformat()}
    case.sla_state = state
