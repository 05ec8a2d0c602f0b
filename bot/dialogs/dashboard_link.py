"""``dashboard``: a manager or admin asks for a sign-in link to the live dashboard and gets a
one-time, short-lived link that only they see. Anyone else is refused privately, and the
refusal is logged (never the link: it is as good as a password until used or expired)."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.commands import Role
from bot.dialogs import replies
from bot.dialogs.desk_context import DeskContext
from bot.dialogs.notify import private_handle
from bot.messages import Outbound
from bot.storage.sign_ins import issue_sign_in

logger = logging.getLogger(__name__)


async def send_sign_in_link(ctx: DeskContext) -> None:
    if not (ctx.has(Role.MANAGER) or ctx.has(Role.ADMIN)):
        logger.warning("refused dashboard from %s (not a manager or admin)", ctx.agent)
        ctx.refuse(replies.NOT_A_MANAGER_FOR_DASHBOARD)
        return
    settings = ctx.desk.dashboard
    if not settings.url:
        ctx.refuse(replies.DASHBOARD_NOT_SET_UP)
        return
    token = issue_sign_in(
        ctx.uow.session,
        ctx.agent,
        now=ctx.uow.clock.now(),
        ttl=timedelta(minutes=settings.link_minutes),
    )
    url = f"{settings.url.rstrip('/')}/sign-in/{token}"
    private_to, reply_token = private_handle(ctx.inbound)
    ctx.uow.send(
        Outbound(
            channel=ctx.inbound.channel,
            text=replies.dashboard_link(url, round(settings.link_minutes)),
            private_to=private_to,
            reply_token=reply_token,
        )
    )
    logger.info("dashboard sign-in link sent to %s", ctx.agent)
