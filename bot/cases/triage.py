"""Agent changes that keep the case with the same people: waiting on the customer (pending)
and priority. Each writes the audit trail and emits an event (the SLA clock listens)."""

from __future__ import annotations

from bot.cases.service import claim_case, get_case, log_event, require_active, touch
from bot.cases.transcript import PRIORITIES, CaseStatus, EventKind
from bot.errors import ClaimConflict, UserFacingError
from bot.events import CasePending, PriorityChanged
from bot.storage.models import Case
from bot.storage.uow import UnitOfWork


async def mark_pending(
    uow: UnitOfWork, number: int, agent: str, agent_name: str, *, manager: bool = False
) -> Case:
    """Waiting on the customer: their next message puts the case back with the agent (a
    manager may set a colleague's case pending; it stays theirs)."""
    case = await get_case(uow, number)
    require_active(case)
    if case.assignee is None:
        case = await claim_case(uow, number, agent, agent_name)
    elif case.assignee != agent and not manager:
        raise ClaimConflict(number, case.assignee_name or case.assignee)
    if case.status == CaseStatus.PENDING.value:
        raise UserFacingError(f"Case #{number} is already waiting on the customer.")
    case.status = CaseStatus.PENDING.value
    case.pending_since = uow.clock.now()
    touch(uow, case, agent)
    log_event(
        uow, case, EventKind.STATUS_CHANGE, agent, "pending", author_name=agent_name, to="pending"
    )
    uow.emit(CasePending(number, agent=agent_name))
    return case


async def set_priority(
    uow: UnitOfWork, number: int, priority: str, agent: str, agent_name: str
) -> Case:
    if priority not in PRIORITIES:
        raise UserFacingError(f"Priorities are {', '.join(PRIORITIES)}.")
    case = await get_case(uow, number)
    require_active(case)
    if case.priority == priority:
        raise UserFacingError(f"Case #{number} is already {priority} priority.")
    before, case.priority = case.priority, priority
    touch(uow, case, agent)
    log_event(uow, case, EventKind.PRIORITY, agent, priority, author_name=agent_name, before=before)
    uow.emit(PriorityChanged(number, priority=priority))
    return case
