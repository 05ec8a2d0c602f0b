"""Guided prompts for admins where the platform has no forms (Telegram, the terminal): ``kb
add`` asks for the title, then the answer, then example questions, one message each.

A prompt in progress is a row (``AdminPrompt``), one per person and channel, so whichever
process receives the next message carries on, also after a restart; it lapses after
``PROMPT_MINUTES`` without an answer.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select

from bot.dialogs.desk_context import DeskContext
from bot.storage.models import AdminPrompt

PROMPT_MINUTES = 30
CANCEL_WORDS = frozenset({"cancel", "/cancel", "stop"})


async def start(ctx: DeskContext, kind: str, step: str, data: dict[str, Any]) -> None:
    """Begin (or restart) a prompt for the person acting, in the channel they wrote in."""
    await drop(ctx)
    ctx.uow.session.add(
        AdminPrompt(
            channel=str(ctx.inbound.channel),
            user_id=ctx.inbound.user_id,
            kind=kind,
            step=step,
            data=data,
            expires_at=_expiry(ctx),
        )
    )


async def current(ctx: DeskContext) -> AdminPrompt | None:
    """The person's prompt in this channel, if one is waiting and has not lapsed (a lapsed
    one is removed)."""
    prompt = await ctx.uow.session.scalar(
        select(AdminPrompt)
        .where(
            AdminPrompt.channel == str(ctx.inbound.channel),
            AdminPrompt.user_id == ctx.inbound.user_id,
        )
        .with_for_update()
    )
    if prompt is None:
        return None
    if prompt.expires_at <= ctx.uow.clock.now():
        await ctx.uow.session.delete(prompt)
        return None
    return prompt


def advance(ctx: DeskContext, prompt: AdminPrompt, step: str, **data: Any) -> None:
    """Move to ``step``, keeping what was answered so far; the clock starts again."""
    prompt.step = step
    prompt.data = {**(prompt.data or {}), **data}
    prompt.expires_at = _expiry(ctx)


async def drop(ctx: DeskContext) -> None:
    await ctx.uow.session.execute(
        delete(AdminPrompt).where(
            AdminPrompt.channel == str(ctx.inbound.channel),
            AdminPrompt.user_id == ctx.inbound.user_id,
        )
    )


def _expiry(ctx: DeskContext) -> Any:
    return ctx.uow.clock.now() + timedelta(minutes=PROMPT_MINUTES)
