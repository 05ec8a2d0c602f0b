"""``stats [today|week|month]`` for managers: the figures of the current period so far (titled
"so far, as of HH:MM", not like a finished digest), answered where they asked (an agent channel
or the managers' channel)."""

from __future__ import annotations

import logging

from bot.commands import Role
from bot.dialogs import replies
from bot.dialogs.desk_context import DeskContext
from bot.errors import InvalidCommand
from bot.escalation.sla_clock import CaseSlaClock
from bot.reports.digest import build_digest

logger = logging.getLogger(__name__)

PERIODS = {"": "day", "today": "day", "day": "day", "week": "week", "month": "month"}


async def answer_stats(ctx: DeskContext, args: str) -> None:
    if not ctx.has(Role.MANAGER):
        logger.warning("refused stats from %s (not a manager)", ctx.agent)
        ctx.refuse(replies.NOT_A_MANAGER)
        return
    period = PERIODS.get(args.strip().lower())
    if period is None:
        raise InvalidCommand(replies.STATS_USAGE)
    now = ctx.uow.clock.now()
    digest = await build_digest(
        ctx.uow,
        period,
        now,
        ctx.desk.digest_timezone,
        sla=CaseSlaClock.of(ctx.desk),
        complete=False,
    )
    ctx.answer(digest.text)
