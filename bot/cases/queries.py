"""Read-only views of the cases for agents: lists, search by customer, queue position."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, or_, select

from bot.cases.transcript import ACTIVE_STATUSES, CaseStatus, EventKind
from bot.storage.models import Case, CaseEvent, Customer, CustomerIdentity
from bot.storage.uow import UnitOfWork

LIST_LIMIT = 25


async def active_cases(uow: UnitOfWork, *, limit: int = LIST_LIMIT) -> list[Case]:
    query = select(Case).where(Case.status.in_([s.value for s in ACTIVE_STATUSES]))
    return list(await uow.session.scalars(query.order_by(Case.id.desc()).limit(limit)))


async def unclaimed_cases(uow: UnitOfWork, *, limit: int = LIST_LIMIT) -> list[Case]:
    """Unclaimed cases, oldest first: the order they should be picked up in."""
    query = select(Case).where(Case.assignee.is_(None), Case.status == CaseStatus.NEW.value)
    return list(await uow.session.scalars(query.order_by(Case.id).limit(limit)))


async def cases_of_agent(uow: UnitOfWork, agent: str, *, limit: int = LIST_LIMIT) -> list[Case]:
    query = select(Case).where(
        Case.assignee == agent, Case.status.in_([s.value for s in ACTIVE_STATUSES])
    )
    return list(await uow.session.scalars(query.order_by(Case.id.desc()).limit(limit)))


async def cases_of_customer_matching(
    uow: UnitOfWork, who: str, *, limit: int = LIST_LIMIT
) -> list[Case]:
    """Cases of customers whose name contains ``who``, or whose customer number or platform
    user id is ``who`` (with or without its ``#`` / ``@``)."""
    term = who.strip().lstrip("#@")
    if not term:
        return []
    pattern = f"%{term.lower()}%"
    matches: list[ColumnElement[bool]] = [
        func.lower(Customer.display_name).like(pattern),
        Customer.id.in_(
            select(CustomerIdentity.customer_id).where(CustomerIdentity.platform_user_id == term)
        ),
    ]
    if term.isdigit():
        matches.append(Customer.id == int(term))
    customers = select(Customer.id).where(or_(*matches))
    query = select(Case).where(Case.customer_id.in_(customers))
    return list(await uow.session.scalars(query.order_by(Case.id.desc()).limit(limit)))


async def queue_position(uow: UnitOfWork, case: Case) -> int:
    """1 + the unclaimed cases in the same queue that were opened before this one."""
    ahead = await uow.session.scalar(
        select(func.count())
        .select_from(Case)
        .where(
            Case.queue == case.queue,
            Case.status == CaseStatus.NEW.value,
            Case.assignee.is_(None),
            Case.id < case.id,
        )
    )
    return int(ahead or 0) + 1


async def suggestion_of(uow: UnitOfWork, case_id: int) -> str:
    """The article the bot suggested before the case was opened ("" if none)."""
    events = await uow.session.scalars(
        select(CaseEvent).where(
            CaseEvent.case_id == case_id, CaseEvent.kind == EventKind.BOT_MESSAGE.value
        )
    )
    for event in events:
        suggested = (event.data or {}).get("suggested")
        if suggested:
            return str(suggested)
    return ""


async def agent_name_of(uow: UnitOfWork, agent: str) -> str | None:
    """The name an agent ("platform:id") last acted under, if they ever did."""
    name = await uow.session.scalar(
        select(CaseEvent.author_name)
        .where(CaseEvent.author == agent, CaseEvent.author_name != "")
        .order_by(CaseEvent.id.desc())
        .limit(1)
    )
    return name or None


async def agent_named(uow: UnitOfWork, name: str) -> tuple[str, str] | None:
    """An agent ("platform:id", name) who has acted under ``name`` (any case)."""
    row = (
        await uow.session.execute(
            select(CaseEvent.author, CaseEvent.author_name)
            .where(
                func.lower(CaseEvent.author_name) == name.lower(),
                CaseEvent.kind.in_(
                    [EventKind.CLAIM.value, EventKind.AGENT_MESSAGE.value, EventKind.NOTE.value]
                ),
            )
            .order_by(CaseEvent.id.desc())
            .limit(1)
        )
    ).first()
    return (row[0], row[1]) if row else None
