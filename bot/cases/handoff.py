"""Moving a case between people and queues: transfer to a queue or an agent, and reopening a
resolved (or silence-closed) case when the customer writes again within the reopen window."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bot.cases.service import close_case, get_case, log_event, require_active, unassign
from bot.cases.transcript import CaseStatus, EventKind
from bot.errors import ClaimConflict, UserFacingError
from bot.events import CaseReopened, CaseTransferred
from bot.storage.models import Case
from bot.storage.uow import UnitOfWork


def _may_hand_off(case: Case, agent: str, *, manager: bool) -> None:
    """The holder (or anyone, on an unclaimed case; or a manager) may pass a case on."""
    if case.assignee not in (None, agent) and not manager:
        raise ClaimConflict(case.id, case.assignee_name or case.assignee or "")


async def transfer_to_queue(
    uow: UnitOfWork, number: int, queue: str, agent: str, agent_name: str, *, manager: bool = False
) -> Case:
    """Send the case to another queue, unclaimed: that queue's agents pick it up."""
    case = await get_case(uow, number)
    require_active(case)
    _may_hand_off(case, agent, manager=manager)
    if case.queue == queue and case.assignee is None:
        raise UserFacingError(f"Case #{number} is already in the {queue} queue, unclaimed.")
    before = case.queue
    case.queue = queue
    unassign(case)
    log_event(
        uow,
        case,
        EventKind.TRANSFER,
        agent,
        f"to queue {queue}",
        author_name=agent_name,
        queue=queue,
        from_queue=before,
    )
    uow.emit(CaseTransferred(number, to_queue=queue, to_agent=None))
    return case


async def transfer_to_agent(
    uow: UnitOfWork,
    number: int,
    target: str,
    target_name: str,
    agent: str,
    agent_name: str,
    *,
    manager: bool = False,
) -> Case:
    """Give the case to another agent (``target`` is "platform:user-id"); it stays claimed."""
    case = await get_case(uow, number)
    require_active(case)
    _may_hand_off(case, agent, manager=manager)
    if case.assignee == target:
        raise UserFacingError(f"Case #{number} is already with {target_name}.")
    now = uow.clock.now()
    case.assignee, case.assignee_name = target, target_name
    case.claimed_at = now
    case.last_agent_activity_at = now  # the new holder's auto-release clock starts now
    if case.status == CaseStatus.NEW.value:
        case.status = CaseStatus.OPEN.value
    log_event(
        uow,
        case,
        EventKind.TRANSFER,
        agent,
        f"to {target_name}",
        author_name=agent_name,
        agent=target,
        agent_name=target_name,
    )
    uow.emit(CaseTransferred(number, to_queue=case.queue, to_agent=target_name))
    return case


CLOSED_FOR_SILENCE = "closed_for_silence"  # Case.sla_state key: when the SLA check closed it


async def close_for_silence(uow: UnitOfWork, number: int) -> Case:
    """The customer never answered while the case waited on them: close it, but — as the
    customer is told — their next message within the reopen window brings it back."""
    case = await close_case(uow, number, "bot", "SLA", reason="silence")
    case.sla_state = {**(case.sla_state or {}), CLOSED_FOR_SILENCE: uow.clock.now().isoformat()}
    return case


def reopen_deadline(case: Case, window: timedelta) -> datetime | None:
    """Until when a message from the customer reopens the case: ``window`` after it was
    resolved, or after it was closed because they went quiet (None: it cannot be reopened —
    still active, or closed for good by an agent or at the end of the window)."""
    if case.status == CaseStatus.RESOLVED.value and case.resolved_at is not None:
        return case.resolved_at + window
    silence = (case.sla_state or {}).get(CLOSED_FOR_SILENCE)
    if case.status == CaseStatus.CLOSED.value and silence:
        return datetime.fromisoformat(str(silence)) + window
    return None


def can_reopen(case: Case, now: datetime, window: timedelta) -> bool:
    """The one reopen rule, for resolved and silence-closed cases alike (the dialog's idle
    timeout does not shorten it)."""
    deadline = reopen_deadline(case, window)
    return deadline is not None and now <= deadline


async def reopenable_case_for(
    uow: UnitOfWork, conversation: str, now: datetime, window: timedelta
) -> Case | None:
    """The conversation's latest case, if a message now would reopen it — whatever state the
    dialog is in (the case table is the truth)."""
    case = await uow.session.scalar(
        select(Case).where(Case.conversation == conversation).order_by(Case.id.desc()).limit(1)
    )
    return case if case is not None and can_reopen(case, now, window) else None


async def reopen_case(
    uow: UnitOfWork, number: int, by: str, by_name: str, window: timedelta
) -> Case:
    """The customer wrote again soon after the resolution (or after the case was closed for
    their silence): the case is back — with its agent if it had one, in the queue otherwise."""
    case = await get_case(uow, number)
    now = uow.clock.now()
    if not can_reopen(case, now, window):
        raise UserFacingError(f"Case #{number} can no longer be reopened.")
    case.status = (CaseStatus.OPEN if case.assignee else CaseStatus.NEW).value
    case.reopen_count = (case.reopen_count or 0) + 1
    case.reopened_at = now
    case.resolved_at = None
    case.closed_at = None
    case.sla_state = {
        key: value for key, value in (case.sla_state or {}).items() if key != CLOSED_FOR_SILENCE
    }
    if case.assignee:
        case.last_agent_activity_at = now  # a fresh start before any auto-release
    log_event(
        uow,
        case,
        EventKind.REOPEN,
        by,
        "reopened",
        author_name=by_name,
        to=case.status,
        count=case.reopen_count,
    )
    uow.emit(CaseReopened(number, by=by_name))
    return case
