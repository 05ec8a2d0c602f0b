"""SLA timers wired into the desk, and what they say.

- ``apply_sla_events`` runs before every commit (registered on the unit of work by the
  composition root): each case touched gets its due times derived again from its history
  (``bot.escalation.sla_clock``); a path that shows due times before the commit (a card) runs
  it first.
- ``opening_hours_note`` is the line a customer gets when they open a case while the team is
  away.
- ``run_sla_check`` is the scheduled job: the escalation ladder (warning in the case thread,
  breach in the queue channel and the managers' channel, re-pings for unclaimed cases) and
  stale pending cases (a nudge, then closing). ``bot.escalation.sla`` decides and records;
  this module writes the words to the outbox in the same transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot.cases import handoff
from bot.config import DeskConfig
from bot.dialogs import notify, replies
from bot.dialogs.states import State
from bot.errors import UserFacingError
from bot.escalation import sla
from bot.escalation.calendar import BusinessCalendar
from bot.logs import about
from bot.messages import ChannelRef, Outbound
from bot.metrics import SLA_ALERTS
from bot.storage.models import Case
from bot.storage.uow import UnitOfWork, UnitOfWorkFactory

logger = logging.getLogger(__name__)


def calendar_of(desk: DeskConfig) -> BusinessCalendar:
    return BusinessCalendar.from_config(desk.business_hours)


def opening_hours_note(desk: DeskConfig, now: datetime) -> str | None:
    """For a case opened out of hours: when the team will be back (None when open now)."""
    calendar = calendar_of(desk)
    if calendar.is_open(now):
        return None
    return replies.outside_hours(calendar.local(calendar.next_open(now)))


async def apply_sla_events(uow: UnitOfWork, desk: DeskConfig) -> None:
    """Keep each case's SLA clock in step with what happened in this unit of work: every case
    an event touched gets its due times derived again from its audit trail (idempotent, so
    running it early — to show the due times on a card — and again at commit is harmless)."""
    calendar = calendar_of(desk)
    # Events stay on the unit of work after a rollback; recomputing from the rows as they are
    # is right either way.
    numbers = dict.fromkeys(event.case_number for event in uow.events)
    for number in numbers:
        case = await uow.session.get(Case, number)
        if case is not None:
            await sla.recompute(uow, case, desk.sla, calendar)


@dataclass(frozen=True)
class SlaCheckResult:
    warnings: int = 0
    breaches: int = 0
    pings: int = 0
    nudged: int = 0
    closed: int = 0


async def run_sla_check(uow_factory: UnitOfWorkFactory, desk: DeskConfig) -> SlaCheckResult:
    """One pass of the escalation ladder and stale handling, in one transaction."""
    calendar = calendar_of(desk)
    async with uow_factory() as uow:
        now = uow.clock.now()
        alerts = await sla.ladder(uow, desk.sla, calendar, now)
        for alert in alerts:
            case = alert.case
            with about(conversation=case.conversation, platform=case.origin_platform, case=case.id):
                _announce(uow, desk, calendar, alert, now)
        stale = await sla.stale_cases(uow, desk.sla, now)
        for case in stale.nudge:
            notify.to_customer(uow, case.conversation, replies.nudge_customer(case.id))
            notify.to_agents(uow, desk, case, replies.nudged_for_agents(case.id))
        closed = 0
        for case in stale.close:
            closed += await _close_stale(uow, desk, case)
        await uow.commit()
    for alert in alerts:
        if alert.stage in ("warning", "breach"):
            SLA_ALERTS.labels(stage=alert.stage, target=alert.target).inc()
    stages = [a.stage for a in alerts]
    return SlaCheckResult(
        warnings=stages.count("warning"),
        breaches=stages.count("breach"),
        pings=stages.count("unclaimed"),
        nudged=len(stale.nudge),
        closed=closed,
    )


def _announce(
    uow: UnitOfWork,
    desk: DeskConfig,
    calendar: BusinessCalendar,
    alert: sla.SlaAlert,
    now: datetime,
) -> None:
    case = alert.case
    if alert.stage == "unclaimed":
        waited = int((now - (alert.since or case.created_at)).total_seconds() // 60)
        text = replies.still_unclaimed(case.id, case.subject, waited)
        uow.send(Outbound(channel=notify.queue_channel(desk, case), text=text))
        return
    assert alert.due_at is not None
    due_local = calendar.local(alert.due_at)
    if alert.stage == "warning":
        text = replies.sla_warning(case.id, alert.target, due_local, case.assignee_name)
        notify.to_agents(uow, desk, case, text)
        return
    text = replies.sla_breach(case.id, alert.target, due_local, case.assignee_name)
    uow.send(Outbound(channel=notify.queue_channel(desk, case), text=text))
    if desk.managers_channel:
        uow.send(
            Outbound(
                channel=ChannelRef.parse(desk.managers_channel),
                text=replies.sla_breach_for_managers(
                    case.id,
                    case.subject,
                    case.priority,
                    alert.target,
                    due_local,
                    case.assignee_name,
                ),
            )
        )


async def _close_stale(uow: UnitOfWork, desk: DeskConfig, case: Case) -> int:
    try:
        await handoff.close_for_silence(uow, case.id)
    except UserFacingError:
        logger.info("stale case #%s was already closed", case.id)
        return 0
    notify.to_customer(uow, case.conversation, replies.stale_closed_for_customer(case.id))
    notify.to_agents(uow, desk, case, replies.stale_closed_for_agents(case.id))
    notify.close_thread(uow, desk, case)
    await notify.update_escalation(uow, desk, case)
    # the conversation stays with the case: their next message (within the reopen window)
    # reopens it, as they were just told
    await notify.set_customer_state(uow, case.conversation, State.RESOLVED, case=case.id)
    return 1
