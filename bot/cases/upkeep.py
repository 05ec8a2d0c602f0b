"""Periodic case upkeep, for the scheduler: release claims whose holder went silent, close
resolved cases once their reopen window has passed. These change the cases; telling people is
the caller's business (``bot.dialogs.upkeep``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update

from bot.cases.service import log_event
from bot.cases.transcript import CaseStatus, EventKind
from bot.events import CaseClosed, CaseReleased
from bot.storage.models import Case
from bot.storage.uow import UnitOfWork


@dataclass(frozen=True)
class ReleasedClaim:
    case: Case
    holder_name: str  # who had it


async def release_stale_claims(
    uow: UnitOfWork, now: datetime, after: timedelta
) -> list[ReleasedClaim]:
    """Unclaim open cases whose holder has done nothing on them for ``after``.

    Each release is a conditional UPDATE on the holder and their last activity, so an agent who
    acts at the same moment keeps the case. Pending cases are left alone: there the agent is
    rightly waiting on the customer."""
    cutoff = now - after
    last_seen = func.coalesce(Case.last_agent_activity_at, Case.claimed_at)
    candidates = list(
        await uow.session.scalars(
            select(Case)
            .where(
                Case.status == CaseStatus.OPEN.value,
                Case.assignee.is_not(None),
                last_seen <= cutoff,
            )
            .order_by(Case.id)
        )
    )
    released: list[ReleasedClaim] = []
    for case in candidates:
        holder, holder_name = case.assignee, case.assignee_name or case.assignee or ""
        result = await uow.session.execute(
            update(Case)
            .where(
                Case.id == case.id,
                Case.assignee == holder,
                Case.status == CaseStatus.OPEN.value,
                or_(
                    Case.last_agent_activity_at.is_(None),
                    Case.last_agent_activity_at <= cutoff,
                ),
            )
            .values(
                assignee=None,
                assignee_name=None,
                last_agent_activity_at=None,
                status=CaseStatus.NEW.value,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            continue
        await uow.session.refresh(case)
        log_event(
            uow,
            case,
            EventKind.RELEASE,
            "bot",
            "released automatically",
            author_name="",
            agent=holder,
            agent_name=holder_name,
            idle_minutes=int(after.total_seconds() // 60),
        )
        uow.emit(CaseReleased(case.id, agent=holder_name))
        released.append(ReleasedClaim(case, holder_name))
    return released


async def close_resolved_cases(uow: UnitOfWork, now: datetime, window: timedelta) -> list[Case]:
    """Close resolved cases whose reopen window has passed."""
    rows = list(
        await uow.session.scalars(
            select(Case)
            .where(Case.status == CaseStatus.RESOLVED.value, Case.resolved_at <= now - window)
            .order_by(Case.id)
            .with_for_update(skip_locked=True)
        )
    )
    for case in rows:
        case.status = CaseStatus.CLOSED.value
        case.closed_at = now
        log_event(
            uow, case, EventKind.STATUS_CHANGE, "bot", "closed", to=case.status, automatic=True
        )
        uow.emit(CaseClosed(case.id, by="bot"))
    return rows
