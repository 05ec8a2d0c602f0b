"""Admin verbs in an agents' or admins' channel (``erase``, ``kb``, ``intent``, ``gaps`` …):
one small handler per verb, registered here. The role check is made once, before any handler
runs: anyone who is not an admin is refused privately, and the refusal is logged."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot.commands import CommandCall, Role
from bot.dialogs import admin_gaps, admin_suggestions, replies
from bot.dialogs.admin_intent import intent_verb
from bot.dialogs.admin_kb import kb
from bot.dialogs.desk_context import DeskContext
from bot.dialogs.desk_privacy import confirm_erasure

logger = logging.getLogger(__name__)

AdminHandler = Callable[[DeskContext, CommandCall], Awaitable[None]]


async def _erase(ctx: DeskContext, call: CommandCall) -> None:
    await confirm_erasure(ctx, call.args)


ADMIN_VERBS: dict[str, AdminHandler] = {
    "erase": _erase,
    "gaps": admin_gaps.gaps_verb,
    "suggestions": admin_suggestions.list_suggestions,
    "accept": admin_suggestions.accept,
    "reject": admin_suggestions.reject,
    "kb": kb,
    "intent": intent_verb,
}


def allowed(ctx: DeskContext, call: CommandCall) -> bool:
    """True for an admin; anyone else is refused privately and the refusal logged."""
    if ctx.has(Role.ADMIN):
        return True
    logger.warning("refused %s %r from %s (not an admin)", call.verb, call.args[:40], ctx.agent)
    ctx.refuse(replies.NOT_AN_ADMIN)
    return False
