"""Case verbs: open, add a customer message, claim, release, reply, note, resolve, close, rate.

Each takes the unit of work, changes rows, appends to the transcript and emits domain events;
notifying people is the caller's business.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update

from bot.cases.transcript import ACTIVE_STATUSES, CaseStatus, EventKind
from bot.errors import ClaimConflict, NotFound, UserFacingError
from bot.events import (
    AgentReplied,
    CaseClaimed,
    CaseClosed,
    CaseOpened,
    CaseReleased,
    CaseResolved,
    CustomerMessageAdded,
    NoteAdded,
)
from bot.storage.models import Case, CaseEvent
from bot.storage.uow import UnitOfWork

SUBJECT_MAX = 120


def subject_from(text: str) -> str:
    first_line = " ".join(text.split())
    if len(first_line) <= SUBJECT_MAX:
        return first_line or "(no subject)"
    return first_line[: SUBJECT_MAX - 1].rsplit(" ", 1)[0] + "…"


def log_event(
    uow: UnitOfWork,
    case: Case,
    kind: EventKind,
    author: str,
    body: str = "",
    *,
    author_name: str = "",
    **data: object,
) -> None:
    """Append one line to the case's transcript and audit trail."""
    uow.session.add(
        CaseEvent(
            case_id=case.id,
            kind=kind.value,
            author=author,
            author_name=author_name,
            body=body,
            data=dict(data),
            created_at=uow.clock.now(),
        )
    )
    case.updated_at = uow.clock.now()


_log = log_event  # the short name used throughout this module


async def open_case(
    uow: UnitOfWork,
    *,
    customer_id: int,
    customer_author: str,
    customer_name: str,
    conversation: str,
    platform: str,
    subject: str,
    transcript: Sequence[tuple[str, str]],
    intent: str | None = None,
    priority: str = "normal",
    queue: str = "default",
    suggested: str | None = None,
    tags: Sequence[str] = (),
) -> Case:
    """Open a case carrying the conversation so far: ``transcript`` is (who, text) pairs, who
    being "customer" or "bot"; ``suggested`` is the article the bot offered before."""
    now = uow.clock.now()
    description = "\n".join(text for who, text in transcript if who == "customer")
    case = Case(
        customer_id=customer_id,
        conversation=conversation,
        subject=subject_from(subject),
        description=description,
        status=CaseStatus.NEW.value,
        priority=priority,
        intent=intent,
        origin_platform=platform,
        queue=queue,
        created_at=now,
        updated_at=now,
        reopen_count=0,
        tags=list(tags),
    )
    uow.session.add(case)
    await uow.session.flush()
    for who, text in transcript:
        if who == "customer":
            _log(
                uow,
                case,
                EventKind.CUSTOMER_MESSAGE,
                customer_author,
                text,
                author_name=customer_name,
            )
        else:
            _log(uow, case, EventKind.BOT_MESSAGE, "bot", text)
    if suggested:
        _log(uow, case, EventKind.BOT_MESSAGE, "bot", f"suggested {suggested}", suggested=suggested)
    # the queue and priority it opened with: the SLA clock is derived from this history
    _log(
        uow,
        case,
        EventKind.STATUS_CHANGE,
        "bot",
        "opened",
        to=CaseStatus.NEW.value,
        queue=queue,
        priority=priority,
    )
    uow.emit(CaseOpened(case.id, subject=case.subject, priority=priority))
    return case


async def get_case(uow: UnitOfWork, number: int) -> Case:
    case = await uow.session.get(Case, number)
    if case is None:
        raise NotFound(f"There is no case #{number}.")
    return case


async def active_case_for(uow: UnitOfWork, conversation: str) -> Case | None:
    return await uow.session.scalar(
        select(Case)
        .where(Case.conversation == conversation, Case.status.in_(ACTIVE_STATUSES))
        .order_by(Case.id.desc())
        .limit(1)
    )


async def cases_of_customer(uow: UnitOfWork, customer_id: int, limit: int = 10) -> list[Case]:
    rows = await uow.session.scalars(
        select(Case).where(Case.customer_id == customer_id).order_by(Case.id.desc()).limit(limit)
    )
    return list(rows)


async def add_customer_message(
    uow: UnitOfWork, case: Case, author: str, author_name: str, text: str
) -> None:
    _log(uow, case, EventKind.CUSTOMER_MESSAGE, author, text, author_name=author_name)
    if case.status == CaseStatus.PENDING.value:  # the customer answered: back to the agent
        case.status = (CaseStatus.OPEN if case.assignee else CaseStatus.NEW).value
        case.pending_since = None
        _log(
            uow,
            case,
            EventKind.STATUS_CHANGE,
            author,
            "customer replied",
            author_name=author_name,
            to=case.status,
        )
    uow.emit(CustomerMessageAdded(case.id, text=text))


async def claim_case(uow: UnitOfWork, number: int, agent: str, agent_name: str) -> Case:
    """Claim atomically: one conditional UPDATE, so of many simultaneous claimers one wins."""
    result = await uow.session.execute(
        update(Case)
        .where(
            Case.id == number,
            Case.assignee.is_(None),
            Case.status.in_([s.value for s in ACTIVE_STATUSES]),
        )
        .values(
            assignee=agent,
            assignee_name=agent_name,
            status=CaseStatus.OPEN.value,
            claimed_at=uow.clock.now(),
            updated_at=uow.clock.now(),
            last_agent_activity_at=uow.clock.now(),
        )
        .execution_options(synchronize_session=False)
    )
    case = await get_case(uow, number)
    await uow.session.refresh(case)
    if getattr(result, "rowcount", 0) != 1:
        if case.assignee:
            raise ClaimConflict(number, case.assignee_name or case.assignee)
        raise UserFacingError(f"Case #{number} is {case.status}; it cannot be claimed.")
    _log(uow, case, EventKind.CLAIM, agent, "claimed", author_name=agent_name)
    uow.emit(CaseClaimed(number, agent=agent_name))
    return case


async def release_case(
    uow: UnitOfWork, number: int, agent: str, agent_name: str, *, manager: bool = False
) -> Case:
    """Back to the queue: by its holder, or by a manager (who may release anyone's claim)."""
    case = await get_case(uow, number)
    if case.assignee is None or (case.assignee != agent and not manager):
        raise UserFacingError(f"Case #{number} is not claimed by you.")
    unassign(case)
    _log(uow, case, EventKind.RELEASE, agent, "released", author_name=agent_name)
    uow.emit(CaseReleased(number, agent=agent_name))
    return case


def unassign(case: Case) -> None:
    """Back to the queue, unclaimed (a pending case stays pending: it still waits on them)."""
    case.assignee = None
    case.assignee_name = None
    case.last_agent_activity_at = None
    if case.status == CaseStatus.OPEN.value:
        case.status = CaseStatus.NEW.value


def touch(uow: UnitOfWork, case: Case, agent: str) -> None:
    """The claimer did something: the auto-release clock starts over."""
    if case.assignee == agent:
        case.last_agent_activity_at = uow.clock.now()


def require_active(case: Case) -> None:
    if case.status not in ACTIVE_STATUSES:
        raise UserFacingError(f"Case #{case.id} is {case.status}.")


async def agent_reply(
    uow: UnitOfWork, number: int, agent: str, agent_name: str, text: str, **extra: object
) -> Case:
    """Send ``text`` to the customer (``extra`` lands in the transcript line, e.g. a macro)."""
    case = await get_case(uow, number)
    require_active(case)
    if case.assignee is None:  # replying is claiming: nobody else should answer in parallel
        case = await claim_case(uow, number, agent, agent_name)
    elif case.assignee != agent:
        raise ClaimConflict(number, case.assignee_name or case.assignee)
    _log(uow, case, EventKind.AGENT_MESSAGE, agent, text, author_name=agent_name, **extra)
    touch(uow, case, agent)
    if case.first_response_at is None:
        case.first_response_at = uow.clock.now()
    uow.emit(AgentReplied(number, agent=agent_name, text=text))
    return case


async def add_note(uow: UnitOfWork, number: int, agent: str, agent_name: str, text: str) -> Case:
    case = await get_case(uow, number)
    _log(uow, case, EventKind.NOTE, agent, text, author_name=agent_name)
    touch(uow, case, agent)
    uow.emit(NoteAdded(number, agent=agent_name))
    return case


async def resolve_case(uow: UnitOfWork, number: int, by: str, by_name: str) -> Case:
    case = await get_case(uow, number)
    require_active(case)
    case.status = CaseStatus.RESOLVED.value
    case.resolved_at = uow.clock.now()
    case.pending_since = None
    _log(uow, case, EventKind.STATUS_CHANGE, by, "resolved", author_name=by_name, to=case.status)
    uow.emit(CaseResolved(number, by=by_name))
    return case


async def close_case(
    uow: UnitOfWork, number: int, by: str, by_name: str, *, reason: str = ""
) -> Case:
    case = await get_case(uow, number)
    if case.status == CaseStatus.CLOSED.value:
        raise UserFacingError(f"Case #{number} is already closed.")
    case.status = CaseStatus.CLOSED.value
    case.closed_at = uow.clock.now()
    extra = {"reason": reason} if reason else {}
    _log(
        uow,
        case,
        EventKind.STATUS_CHANGE,
        by,
        "closed",
        author_name=by_name,
        to=case.status,
        **extra,
    )
    uow.emit(CaseClosed(number, by=by_name))
    return case


async def rate_case(uow: UnitOfWork, number: int, rating: int, by: str) -> Case:
    if not 1 <= rating <= 5:
        raise UserFacingError("Ratings go from 1 to 5.")
    case = await get_case(uow, number)
    case.csat = rating
    _log(uow, case, EventKind.RATING, by, str(rating), rating=rating)
    return case


async def comment_on_rating(uow: UnitOfWork, number: int, comment: str, by: str) -> Case:
    """The customer's words after their rating (kept with it for the reports)."""
    case = await get_case(uow, number)
    case.csat_comment = comment[:2000]
    _log(uow, case, EventKind.RATING, by, comment, comment=True)
    return case


async def transcript(uow: UnitOfWork, number: int) -> list[CaseEvent]:
    rows = await uow.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == number).order_by(CaseEvent.id)
    )
    return list(rows)
