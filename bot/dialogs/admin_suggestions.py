"""``suggestions``, ``accept N [INTENT]`` and ``reject N``: messages the classifier missed that
an agent then handled, proposed as intent examples, each settled by an admin with one action
(the Accept / Reject buttons where the platform has them, the commands anywhere). The role
check is ``admin_verbs``'s, made before any of this."""

from __future__ import annotations

from bot.commands import CommandCall, case_number_in
from bot.config import DeskConfig
from bot.dialogs import notify, replies
from bot.dialogs.desk_context import DeskContext
from bot.dialogs.states import NOT_TOPICS
from bot.errors import ConfigError, InvalidCommand
from bot.intents.catalog import add_examples
from bot.messages import Button, button_payload
from bot.reports import suggestions
from bot.reports.gap_text import quote
from bot.storage.content import record_change

SHOWN = 10


def inferred_intent(s: suggestions.Suggestion, desk: DeskConfig) -> str | None:
    """The topic the case was opened with; else its queue's intent when the queue routes only
    one; else none (the admin names it)."""
    if s.case_intent and s.case_intent not in NOT_TOPICS:
        return s.case_intent
    try:
        routed = desk.queue(s.queue).intents
    except ConfigError:  # the queue was renamed since
        return None
    return routed[0] if len(routed) == 1 else None


async def list_suggestions(ctx: DeskContext, call: CommandCall) -> None:
    waiting = await suggestions.open_suggestions(ctx.uow.session, limit=SHOWN)
    if not waiting:
        ctx.answer(replies.SUGGESTIONS_NONE)
        return
    for s in waiting:
        intent = inferred_intent(s, ctx.desk)
        text = quote(s.text, lambda t: notify.for_agents(ctx.desk, t))
        buttons = [Button(replies.REJECT_BUTTON, button_payload("reject", "", str(s.number)))]
        if intent:
            accept = button_payload("accept", "", str(s.number))
            buttons.insert(0, Button(replies.ACCEPT_BUTTON, accept, style="primary"))
        ctx.answer(replies.suggestion_line(s.number, text, s.case, s.queue, intent), buttons)


async def _waiting(ctx: DeskContext, number_text: str, usage: str) -> suggestions.Suggestion:
    number = case_number_in(number_text)
    if number is None:
        raise InvalidCommand(usage)
    found = await suggestions.suggestion(ctx.uow.session, number)
    if found is None:
        raise InvalidCommand(replies.no_suggestion(number))
    return found


async def accept(ctx: DeskContext, call: CommandCall) -> None:
    number_text, _, named = call.args.strip().partition(" ")
    s = await _waiting(ctx, number_text, replies.ACCEPT_USAGE)
    intent = named.strip() or inferred_intent(s, ctx.desk)
    if not intent or " " in intent:
        raise InvalidCommand(replies.suggestion_needs_intent(s.number))
    now = ctx.uow.clock.now()
    added = await add_examples(
        ctx.uow.session, intent, [s.text], actor=ctx.agent, platform=ctx.inbound.platform, at=now
    )
    await suggestions.review(
        ctx.uow.session, s.number, suggestions.ACCEPTED, intent=intent, by=ctx.agent, at=now
    )
    _audit(ctx, "suggestion.accept", s, intent)
    ctx.answer(replies.suggestion_accepted(s.number, intent, added))


async def reject(ctx: DeskContext, call: CommandCall) -> None:
    s = await _waiting(ctx, call.args.strip().partition(" ")[0], replies.REJECT_USAGE)
    now = ctx.uow.clock.now()
    await suggestions.review(
        ctx.uow.session, s.number, suggestions.REJECTED, intent=None, by=ctx.agent, at=now
    )
    _audit(ctx, "suggestion.reject", s, None)
    ctx.answer(replies.suggestion_rejected(s.number))


def _audit(ctx: DeskContext, action: str, s: suggestions.Suggestion, intent: str | None) -> None:
    """The change and where it came from; the example's words are the change itself."""
    record_change(
        ctx.uow.session,
        at=ctx.uow.clock.now(),
        actor=ctx.agent,
        platform=ctx.inbound.platform,
        action=action,
        target=intent or "",
        detail={"suggestion": s.number, "case": s.case},
    )
