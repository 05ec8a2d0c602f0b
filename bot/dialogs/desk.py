"""The agents' desk: commands and button clicks from an agent channel.

In a case thread the case is implied; elsewhere agents name it (``claim 12``). In a case thread,
only an explicit ``reply`` reaches the customer: any other message is an internal note. Outside
case threads, plain chatter among agents is left alone.

This module reads the inbound, checks the role and dispatches; the actions on a case are in
``desk_actions``, the look-ups and macros in ``desk_views``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace

from sqlalchemy import select

from bot.clock import Clock
from bot.commands import (
    CommandCall,
    Role,
    case_number_in,
    hint,
    looks_like_command,
    not_a_case_number,
    parse_command,
)
from bot.config import DeskConfig
from bot.dialogs import queue_access, replies
from bot.dialogs.admin_kb import continue_prompt
from bot.dialogs.admin_verbs import ADMIN_VERBS, allowed
from bot.dialogs.dashboard_link import send_sign_in_link
from bot.dialogs.desk_actions import ACTIONS
from bot.dialogs.desk_context import DeskContext
from bot.dialogs.desk_views import VIEWS
from bot.dialogs.roles import RoleBook
from bot.dialogs.stats import answer_stats
from bot.errors import ClaimConflict, InvalidCommand, PermissionDenied, UserFacingError
from bot.messages import Inbound, InboundKind, split_payload
from bot.reports.gaps import Encoder
from bot.storage import threads
from bot.storage.models import Case
from bot.storage.uow import UnitOfWorkFactory
from bot.text import clean_text

logger = logging.getLogger(__name__)

AGENT_VERBS = set(ACTIONS) | set(VIEWS) | set(ADMIN_VERBS)
# verbs that are a command typed alone anywhere in an agents' channel (they name no case)
LONE_VERBS = {"dashboard"}
# modals whose submission may name its verb (a form without one is the Reply modal)
FORM_VERBS = {"reply", "transfer"}
ADMIN_FORM_VERBS = {"kb"}  # the article form: its fields are the article


class AgentDesk:
    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        desk: DeskConfig,
        roles: RoleBook,
        clock: Clock,
        encoder: Encoder | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._encoder = encoder
        self._desk = desk
        self._roles = roles
        self._clock = clock

    async def handle(
        self, inbound: Inbound, *, uow_factory: UnitOfWorkFactory | None = None
    ) -> None:
        """Handle one agent inbound in one unit of work, from ``uow_factory`` when given (the
        intake's, which marks the inbound handled in the same transaction)."""
        async with (uow_factory or self._uow_factory)() as uow:
            owner = await threads.owner_of(uow.session, inbound.channel)
            thread_case = owner.case_number if owner else None
            if owner is not None and thread_case is not None:
                # a reply to a line of the chain: answer in the case thread, at its root
                inbound = replace(inbound, channel=owner.root)
            call = self._call(inbound, thread_case)
            ctx = DeskContext(
                uow=uow, desk=self._desk, roles=self._roles, inbound=inbound, encoder=self._encoder
            )
            if _may_answer_a_prompt(inbound, call) and await continue_prompt(ctx):
                await uow.commit()  # the next step of an admin's guided ``kb`` prompt
                return
            if call is None:
                return
            if call.verb == "stats":  # managers, who need not be agents
                await self._stats(ctx, call)
                return
            if call.verb == "dashboard":  # managers and admins, who need not be agents
                await send_sign_in_link(ctx)
                await uow.commit()
                return
            if call.verb in ADMIN_VERBS:  # admins, who need not be agents
                await self._admin(ctx, call)
                return
            if not ctx.has(Role.AGENT):
                logger.warning(
                    "refused %s from %s:%s (not an agent)",
                    call.verb,
                    inbound.platform,
                    inbound.user_id,
                )
                ctx.refuse(replies.NOT_AN_AGENT)
                await uow.commit()
                return
            try:
                await self._dispatch(ctx, call)
                if inbound.attachments and call.verb != "reply":  # reply says it itself
                    ctx.answer(replies.files_not_kept_for_agents(inbound.attachments))
            except ClaimConflict as exc:
                await uow.session.rollback()
                ctx.refuse(replies.claim_conflict(exc.case_number, exc.holder))
            except UserFacingError as exc:
                await uow.session.rollback()
                ctx.refuse(exc.safe_message)
            await uow.commit()

    async def case_conversation(self, inbound: Inbound) -> str | None:
        """The customer conversation of the case this inbound acts on (its thread, its button,
        the number it names); None when it names no case."""
        async with self._uow_factory() as uow:
            owner = await threads.owner_of(uow.session, inbound.channel)
            call = self._call(inbound, owner.case_number if owner else None)
            if call is None or call.case_number is None:
                return None
            return await uow.session.scalar(
                select(Case.conversation).where(Case.id == call.case_number)
            )

    async def _stats(self, ctx: DeskContext, call: CommandCall) -> None:
        try:
            await answer_stats(ctx, call.args)
        except UserFacingError as exc:
            ctx.refuse(exc.safe_message)
        await ctx.uow.commit()

    async def _admin(self, ctx: DeskContext, call: CommandCall) -> None:
        if not allowed(ctx, call):
            await ctx.uow.commit()
            return
        try:
            await ADMIN_VERBS[call.verb](ctx, call)
        except UserFacingError as exc:
            await ctx.uow.session.rollback()
            ctx.refuse(exc.safe_message)
        await ctx.uow.commit()

    def _call(self, inbound: Inbound, thread_case: int | None) -> CommandCall | None:
        if inbound.kind == InboundKind.ACTION:
            verb, case, arg = split_payload(f"{inbound.action}:{inbound.value}")
            return _with_case(verb, case, thread_case, arg)
        if inbound.kind == InboundKind.FORM and inbound.action in ADMIN_FORM_VERBS:
            return CommandCall(inbound.action, None, "")  # the article form: its fields
        if inbound.kind == InboundKind.FORM:  # the Reply / Transfer modal
            verb = inbound.action if inbound.action in FORM_VERBS else "reply"
            case = inbound.fields.get("case", "")
            words = inbound.fields.get("text") or inbound.fields.get("target") or ""
            return _with_case(verb, case, thread_case, words)
        text = clean_text(inbound.text).strip()
        bare = _typed_as_hinted(text, thread_case=thread_case)
        if inbound.kind == InboundKind.COMMAND or looks_like_command(text) or bare:
            try:
                return parse_command(text, default_case=thread_case)
            except InvalidCommand as exc:
                return CommandCall("invalid", None, exc.safe_message)
        if thread_case is not None and (text or inbound.attachments):
            files = replies.files_not_kept(inbound.attachments) if inbound.attachments else ""
            return CommandCall("note", thread_case, " ".join(p for p in (text, files) if p))
        return None  # chatter outside case threads

    async def _dispatch(self, ctx: DeskContext, call: CommandCall) -> None:
        if call.verb == "invalid":
            raise InvalidCommand(call.args)
        if call.verb not in AGENT_VERBS:
            raise InvalidCommand(replies.NOT_AGENT_COMMAND)
        if call.case_number is not None:  # a queue with members keeps its cases to them
            await queue_access.check_case(ctx, call.case_number)
        view = VIEWS.get(call.verb)
        if view is not None:
            await view(ctx, call.case_number, call.args)
            return
        if call.case_number is None:
            raise InvalidCommand(f"Which case? Try '{hint(call.verb)} 12'.")
        await ACTIONS[call.verb](ctx, call.case_number, call.args)


def _may_answer_a_prompt(inbound: Inbound, call: CommandCall | None) -> bool:
    """Typed text that is no command — chatter, a note in a case thread, or (the terminal
    sends every agent line as a command) a line naming no verb — may be the answer an
    admin's guided prompt waits for."""
    if inbound.kind not in (InboundKind.MESSAGE, InboundKind.COMMAND):
        return False
    return call is None or call.verb in ("note", "invalid")


def _with_case(verb: str, case: str, thread_case: int | None, args: str) -> CommandCall:
    """A button's or form's call; a case field that names no case (``claim:²:``, 200 digits,
    a word) is answered as such rather than failing on the way to the database."""
    if not case:
        return CommandCall(verb, thread_case, args)
    number = case_number_in(case)
    if number is None:
        return CommandCall("invalid", None, not_a_case_number(case))
    return CommandCall(verb, number, args)


def _typed_as_hinted(text: str, *, thread_case: int | None) -> bool:
    """The escalation post hints commands without a prefix (``claim 3``, ``transfer 3 @5002``,
    ``resolve 3``), so that form is a command: an agent verb followed by a case number — in a
    case thread only that case's number — or a lone verb in a case thread. Anything else stays
    chatter or a note ("reply to this later", "note 2 things" must not become commands)."""
    words = text.split(maxsplit=2)
    if len(words) == 1 and words[0].lower() in LONE_VERBS:
        return True
    if not words or words[0].lower() not in AGENT_VERBS:
        return False
    if len(words) == 1:
        return thread_case is not None
    number = _CASE_NUMBER.fullmatch(words[1])
    if number is None:
        return False
    return thread_case is None or int(number.group(1)) == thread_case


_CASE_NUMBER = re.compile(r"#?(\d+)")

__all__ = ["AgentDesk", "PermissionDenied"]
