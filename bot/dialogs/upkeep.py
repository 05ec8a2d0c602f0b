"""Scheduled desk upkeep with the words that go with it: auto-release of claims whose holder
went silent, auto-close of resolved cases past the reopen window, identity links nobody
confirmed in time.

The scheduler calls these with a unit of work of its own and commits it::

    upkeep = DeskUpkeep(desk=desk)
    async with uow_factory() as uow:
        released = await upkeep.release_stale_claims(uow, clock.now(), upkeep.claim_idle)
        closed = await upkeep.close_resolved_cases(uow, clock.now(), upkeep.reopen_window)
        await uow.commit()
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.cases import upkeep
from bot.config import DeskConfig
from bot.dialogs import link_confirm, notify, replies
from bot.dialogs.states import State
from bot.storage.models import DialogSession
from bot.storage.uow import UnitOfWork
from bot.text import neutralize_mentions

logger = logging.getLogger(__name__)


class DeskUpkeep:
    def __init__(self, *, desk: DeskConfig) -> None:
        self._desk = desk

    @property
    def reopen_window(self) -> timedelta:
        return timedelta(hours=self._desk.reopen_window_hours)

    @property
    def claim_idle(self) -> timedelta:
        """How long a holder may do nothing on an open case (``claim_idle_minutes``)."""
        return timedelta(minutes=self._desk.claim_idle_minutes)

    async def release_stale_claims(
        self, uow: UnitOfWork, now: datetime, after: timedelta
    ) -> list[int]:
        """Unclaim open cases whose holder did nothing on them for ``after``; the queue (case
        thread and post) and the customer are told. Returns the case numbers."""
        minutes = int(after.total_seconds() // 60)
        released = await upkeep.release_stale_claims(uow, now, after)
        for claim in released:
            case = claim.case
            await notify.update_escalation(uow, self._desk, case)
            notify.to_agents(
                uow,
                self._desk,
                case,
                replies.auto_released(case.id, neutralize_mentions(claim.holder_name), minutes),
            )
            notify.to_customer(uow, case.conversation, replies.case_released_to_customer(case.id))
            await notify.set_customer_state(uow, case.conversation, State.CASE_OPEN, case=case.id)
        if released:
            logger.info("auto-released cases %s", [c.case.id for c in released])
        return [c.case.id for c in released]

    async def close_resolved_cases(
        self, uow: UnitOfWork, now: datetime, window: timedelta
    ) -> list[int]:
        """Close resolved cases whose reopen window has passed, telling the customer and the
        queue. Returns the case numbers."""
        closed = await upkeep.close_resolved_cases(uow, now, window)
        for case in closed:
            await notify.update_escalation(uow, self._desk, case)
            notify.to_agents(uow, self._desk, case, replies.auto_closed(case.id))
            notify.close_thread(uow, self._desk, case)
            notify.to_customer(uow, case.conversation, replies.case_auto_closed(case.id))
            await _settle_dialog(uow, case.conversation, case.id)
        if closed:
            logger.info("auto-closed cases %s", [c.id for c in closed])
        return [c.id for c in closed]

    async def expire_link_requests(self, uow: UnitOfWork) -> list[int]:
        """Cancel identity links nobody confirmed in time; both sides are told."""
        return await link_confirm.expire(uow)


async def _settle_dialog(uow: UnitOfWork, conversation: str, number: int) -> None:
    """A dialog still waiting on this case's rating or reopen goes back to idle."""
    session = await uow.session.scalar(
        select(DialogSession).where(DialogSession.conversation == conversation)
    )
    if session is None or (session.data or {}).get("case") != number:
        return
    if session.state in (State.RESOLVED, State.COMMENTING):
        session.state, session.data = State.IDLE.value, {}
        session.updated_at = uow.clock.now()
