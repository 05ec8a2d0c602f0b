"""The agents' desk: commands and button clicks from an agent channel.

In a case thread the case is implied; elsewhere agents name it (``claim 12``). In a case thread,
only an explicit ``reply`` reaches the customer: any other message is an internal note. Outside
case threads, plain chatter among agents is left alone.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from bot.cases import service as cases
from bot.clock import Clock
from bot.commands import CommandCall, Role, looks_like_command, parse_command
from bot.config import DeskConfig
from bot.dialogs import notify, replies
from bot.dialogs.roles import RoleBook
from bot.dialogs.states import State
from bot.errors import ClaimConflict, InvalidCommand, PermissionDenied, UserFacingError
from bot.messages import ChannelRef, Inbound, InboundKind, Outbound, split_payload
from bot.storage.models import Case, SentRefRecord
from bot.storage.uow import UnitOfWork, UnitOfWorkFactory
from bot.text import clean_text

logger = logging.getLogger(__name__)

AGENT_VERBS = {"claim", "release", "reply", "note", "resolve", "cases", "case"}


class AgentDesk:
    def __init__(
        self, *, uow_factory: UnitOfWorkFactory, desk: DeskConfig, roles: RoleBook, clock: Clock
    ) -> None:
        self._uow_factory = uow_factory
        self._desk = desk
        self._roles = roles
        self._clock = clock

    async def handle(self, inbound: Inbound) -> None:
        async with self._uow_factory() as uow:
            thread_case = await self._case_of_thread(uow, inbound.channel)
            call = self._call(inbound, thread_case)
            if call is None:
                return
            if not self._roles.has(
                Role.AGENT, inbound.platform, inbound.user_id, frozenset(inbound.groups)
            ):
                logger.warning(
                    "refused %s from %s:%s (not an agent)",
                    call.verb,
                    inbound.platform,
                    inbound.user_id,
                )
                self._answer(uow, inbound, replies.NOT_AN_AGENT)
                await uow.commit()
                return
            try:
                await self._dispatch(uow, inbound, call)
            except ClaimConflict as exc:
                await uow.session.rollback()
                self._answer(uow, inbound, replies.claim_conflict(exc.case_number, exc.holder))
            except UserFacingError as exc:
                await uow.session.rollback()
                self._answer(uow, inbound, exc.safe_message)
            await uow.commit()

    def _call(self, inbound: Inbound, thread_case: int | None) -> CommandCall | None:
        if inbound.kind == InboundKind.ACTION:
            verb, case, arg = split_payload(f"{inbound.action}:{inbound.value}")
            return CommandCall(verb, int(case) if case.isdigit() else thread_case, arg)
        if inbound.kind == InboundKind.FORM:  # the Reply modal
            case = inbound.fields.get("case", "")
            return CommandCall(
                "reply",
                int(case) if case.isdigit() else thread_case,
                inbound.fields.get("text", ""),
            )
        text = clean_text(inbound.text).strip()
        if inbound.kind == InboundKind.COMMAND or looks_like_command(text):
            try:
                return parse_command(text, default_case=thread_case)
            except InvalidCommand as exc:
                return CommandCall("invalid", None, exc.safe_message)
        if thread_case is not None and text:
            return CommandCall("note", thread_case, text)
        return None  # chatter outside case threads

    async def _case_of_thread(self, uow: UnitOfWork, channel: ChannelRef) -> int | None:
        if channel.thread is None:
            return None
        key = f"{channel.platform}:{channel.channel}/{channel.thread}"
        record = await uow.session.scalar(
            select(SentRefRecord).where(SentRefRecord.message_key == key)
        )
        if record is None or not record.key.startswith("case:"):
            return None
        return int(record.key.split(":")[1])

    def _answer(self, uow: UnitOfWork, inbound: Inbound, text: str) -> None:
        uow.send(Outbound(channel=inbound.channel, text=text))

    async def _dispatch(self, uow: UnitOfWork, inbound: Inbound, call: CommandCall) -> None:
        if call.verb == "invalid":
            raise InvalidCommand(call.args)
        if call.verb not in AGENT_VERBS:
            raise InvalidCommand(replies.NOT_AGENT_COMMAND)
        if call.verb == "cases":
            await self._list(uow, inbound, call.args)
            return
        if call.case_number is None:
            raise InvalidCommand(f"Which case? Try '{call.verb} 12'.")
        agent, name = f"{inbound.platform}:{inbound.user_id}", inbound.user_name or inbound.user_id
        number = call.case_number
        match call.verb:
            case "claim":
                case = await cases.claim_case(uow, number, agent, name)
                await notify.update_escalation(uow, self._desk, case)
                notify.to_agents(uow, self._desk, case, replies.claimed_by(number, name))
                notify.to_customer(uow, case.conversation, replies.agent_joined(name, number))
                await notify.set_customer_state(
                    uow, case.conversation, State.WITH_AGENT, case=number
                )
            case "release":
                case = await cases.release_case(uow, number, agent, name)
                await notify.update_escalation(uow, self._desk, case)
                notify.to_agents(uow, self._desk, case, replies.released_by(number, name))
                notify.to_customer(
                    uow, case.conversation, replies.case_released_to_customer(number)
                )
                await notify.set_customer_state(
                    uow, case.conversation, State.CASE_OPEN, case=number
                )
            case "reply":
                if not call.args:
                    raise InvalidCommand(f"What should I send? Try 'reply {number} Hello…'.")
                was_claimed = (await cases.get_case(uow, number)).assignee is not None
                case = await cases.agent_reply(uow, number, agent, name, call.args)
                if not was_claimed:
                    await notify.update_escalation(uow, self._desk, case)
                notify.to_customer(
                    uow, case.conversation, replies.agent_says(name, call.args), attribution=name
                )
                notify.to_agents(uow, self._desk, case, replies.reply_sent(number))
                await notify.set_customer_state(
                    uow, case.conversation, State.WITH_AGENT, case=number
                )
            case "note":
                if not call.args:
                    raise InvalidCommand(f"The note is empty. Try 'note {number} …'.")
                case = await cases.add_note(uow, number, agent, name, call.args)
                notify.to_agents(uow, self._desk, case, replies.note_saved(number))
            case "resolve":
                case = await cases.resolve_case(uow, number, agent, name)
                await notify.update_escalation(uow, self._desk, case)
                notify.to_agents(uow, self._desk, case, replies.resolved_by(number, name))
                notify.to_customer(
                    uow,
                    case.conversation,
                    replies.case_resolved(number),
                    replies.rating_buttons(number),
                )
                await notify.set_customer_state(uow, case.conversation, State.RESOLVED, case=number)
            case "case":
                case = await cases.get_case(uow, number)
                self._answer(uow, inbound, await self._transcript(uow, case))

    async def _list(self, uow: UnitOfWork, inbound: Inbound, which: str) -> None:
        query = select(Case).order_by(Case.id.desc()).limit(25)
        which = which.strip().lower()
        if which == "mine":
            query = query.where(Case.assignee == f"{inbound.platform}:{inbound.user_id}")
        elif which in ("", "unclaimed"):
            query = (
                query.where(Case.status == "new")
                if which
                else query.where(Case.status.in_(("new", "open", "pending")))
            )
        else:
            raise InvalidCommand("Try 'cases', 'cases unclaimed' or 'cases mine'.")
        rows = list(await uow.session.scalars(query))
        listing = [(c.id, c.subject, c.status, c.assignee_name) for c in rows]
        self._answer(uow, inbound, replies.agent_case_list(listing))

    async def _transcript(self, uow: UnitOfWork, case: Case) -> str:
        from bot.text import neutralize_mentions

        events = await cases.transcript(uow, case.id)
        lines = [f"Case #{case.id} — {case.subject} — {case.status}"]
        for event in events:
            who = event.author_name or event.author
            lines.append(f"{event.created_at:%Y-%m-%d %H:%M} {event.kind} {who}: {event.body}")
        return neutralize_mentions("\n".join(lines))


__all__ = ["AgentDesk", "PermissionDenied"]
