"""The dialog engine: does the I/O around the pure ``decide`` for one customer message.

One message per conversation at a time: an asyncio lock inside the process and, on PostgreSQL,
a row lock on the dialog session (``SELECT … FOR UPDATE``) across processes. Everything a message
changes — case, transcript, feedback, replies in the outbox, the session — commits together.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.cases import service as cases
from bot.cases.customers import customer_for
from bot.clock import Clock
from bot.commands import Role, looks_like_command, parse_command
from bot.config import DeskConfig
from bot.dialogs import notify, replies
from bot.dialogs.states import (
    AddToCase,
    Clicked,
    CloseCase,
    Command,
    Decision,
    OpenCase,
    Policy,
    RateCase,
    RecordFeedback,
    RecordSuggestion,
    Reply,
    ShowStatus,
    Signal,
    State,
    Verb,
    decide,
)
from bot.dialogs.understanding import Understander
from bot.errors import InvalidCommand, UserFacingError
from bot.escalation.routing import route
from bot.messages import Inbound, InboundKind, split_payload
from bot.storage.models import AnswerFeedback, Customer, DialogSession
from bot.storage.uow import UnitOfWork, UnitOfWorkFactory
from bot.text import clean_text, looks_binary

logger = logging.getLogger(__name__)

RESTING_STATES = {State.IDLE, State.SUGGESTED, State.COLLECTING, State.RESOLVED}


class DialogEngine:
    """Handles customers' inbounds (agents' go to ``AgentDesk``)."""

    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        understander: Understander,
        desk: DeskConfig,
        clock: Clock,
    ) -> None:
        self._uow_factory = uow_factory
        self._understander = understander
        self._desk = desk
        self._clock = clock
        self._policy = Policy(desk.answer_threshold, desk.intent_threshold)
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def handle(self, inbound: Inbound) -> None:
        conversation = str(inbound.channel)
        async with self._locks[conversation]:
            signal, early_reply = await self._signal(inbound)
            async with self._uow_factory() as uow:
                if early_reply is not None:
                    notify.to_customer(uow, conversation, early_reply)
                    await uow.commit()
                    return
                assert signal is not None
                customer = await customer_for(
                    uow, inbound.platform, inbound.user_id, inbound.user_name
                )
                session = await self._session(uow, conversation, customer.id)
                state = State(session.state)
                decision = decide(state, session.data or {}, signal, self._policy)
                replies_out = list(decision.replies)
                data = dict(decision.data)
                next_state = decision.state
                for command in decision.commands:
                    more, next_state = await self._run(
                        uow, command, inbound, customer, data, next_state
                    )
                    replies_out.extend(more)
                for reply in replies_out:
                    notify.to_customer(uow, conversation, reply.text, reply.buttons)
                session.state = next_state.value
                session.data = data
                session.updated_at = self._clock.now()
                await uow.commit()

    async def _signal(self, inbound: Inbound) -> tuple[Signal | None, str | None]:
        """Turn an inbound into a signal for ``decide``, or an immediate reply for bad input."""
        if inbound.kind == InboundKind.ACTION:
            verb, case, arg = split_payload(f"{inbound.action}:{inbound.value}")
            return Clicked(verb, case, arg), None
        text = inbound.text
        if looks_binary(text):
            return None, replies.EMPTY_MESSAGE
        text = clean_text(text).strip()
        if inbound.kind == InboundKind.COMMAND or looks_like_command(text):
            try:
                call = parse_command(text)
            except InvalidCommand as exc:
                return None, exc.safe_message
            if call.role != Role.CUSTOMER:
                return None, replies.HELP
            return Verb(call.verb, call.case_number), None
        if not text and not inbound.attachments:
            return None, replies.EMPTY_MESSAGE
        if len(text) > self._desk.max_message_chars:
            return None, replies.too_long(self._desk.max_message_chars)
        if not text:
            from bot.dialogs.states import Said

            return Said(text="", has_attachments=True), None
        understanding = await self._understander.understand(text)
        from bot.dialogs.states import Said

        return (
            Said(
                text=text,
                intent=understanding.intent,
                confidence=understanding.confidence,
                hit=understanding.hit,
                unsupported_language=understanding.unsupported_language,
                has_attachments=bool(inbound.attachments),
            ),
            None,
        )

    async def _session(self, uow: UnitOfWork, conversation: str, customer_id: int) -> DialogSession:
        query = select(DialogSession).where(DialogSession.conversation == conversation)
        session = await uow.session.scalar(query.with_for_update())
        now = self._clock.now()
        if session is None:
            session = DialogSession(
                conversation=conversation,
                customer_id=customer_id,
                state="idle",
                data={},
                updated_at=now,
            )
            uow.session.add(session)
            await uow.session.flush()
        stale = now - session.updated_at > timedelta(hours=self._desk.stale_after_hours)
        if stale and State(session.state) in RESTING_STATES:
            session.state, session.data = State.IDLE.value, {}
        # A case can change under the dialog (closed by an agent): trust the case table.
        if State(session.state) in (State.CASE_OPEN, State.WITH_AGENT):
            case = await cases.active_case_for(uow, conversation)
            if case is None:
                session.state, session.data = State.IDLE.value, {}
        return session

    async def _run(
        self,
        uow: UnitOfWork,
        command: Command,
        inbound: Inbound,
        customer: Customer,
        data: dict[str, Any],
        state: State,
    ) -> tuple[list[Reply], State]:
        conversation = str(inbound.channel)
        author = f"customer:{inbound.platform}:{inbound.user_id}"
        match command:
            case OpenCase():
                queue = route(
                    self._desk,
                    intent=command.intent,
                    priority=command.priority,
                    platform=inbound.platform,
                )
                case = await cases.open_case(
                    uow,
                    customer_id=customer.id,
                    customer_author=author,
                    customer_name=customer.display_name,
                    conversation=conversation,
                    platform=inbound.platform,
                    subject=command.subject,
                    transcript=[("customer", text) for text in command.history],
                    intent=command.intent,
                    priority=command.priority,
                    queue=queue.name,
                )
                data["case"] = case.id
                await notify.post_escalation(uow, self._desk, case, command.suggested or "")
                return [Reply(replies.case_opened(case.id))], State.CASE_OPEN
            case AddToCase():
                active = await cases.active_case_for(uow, conversation)
                if active is None:
                    return [Reply(replies.RESET_DONE)], State.IDLE
                await cases.add_customer_message(
                    uow, active, author, customer.display_name, command.text
                )
                notify.to_agents(
                    uow,
                    self._desk,
                    active,
                    notify.relayed_customer_text(active, customer.display_name, command.text),
                )
                data["case"] = active.id
                ack = [Reply(replies.added_to_case(active.id))] if command.acknowledge else []
                return ack, state
            case ShowStatus():
                rows = await cases.cases_of_customer(uow, customer.id)
                if not rows:
                    return [Reply(replies.NO_CASES)], state
                listing = [(c.id, c.subject, c.status, c.created_at) for c in rows]
                return [Reply(replies.case_list(listing))], state
            case CloseCase():
                return await self._close(uow, command, customer, conversation, author, state)
            case RecordSuggestion():
                feedback = AnswerFeedback(
                    conversation=conversation,
                    customer_id=customer.id,
                    query=command.query,
                    article_slug=command.slug,
                    score=command.score,
                    helpful=None,
                    created_at=self._clock.now(),
                )
                uow.session.add(feedback)
                await uow.session.flush()
                data["feedback"] = feedback.id
                return [], state
            case RecordFeedback():
                feedback_id = command.feedback_id
                row = await uow.session.get(AnswerFeedback, feedback_id) if feedback_id else None
                if row is not None:
                    row.helpful = command.helpful
                    row.answered_at = self._clock.now()
                return [], state
            case RateCase():
                case = await cases.get_case(uow, command.case_number)
                if case.customer_id != customer.id:
                    return [Reply(replies.HELP)], state
                await cases.rate_case(uow, case.id, command.rating, author)
                notify.to_agents(
                    uow, self._desk, case, replies.customer_rated(case.id, command.rating)
                )
                data.pop("case", None)
                return [], state
        raise AssertionError(f"unhandled command {command!r}")

    async def _close(
        self,
        uow: UnitOfWork,
        command: CloseCase,
        customer: Customer,
        conversation: str,
        author: str,
        state: State,
    ) -> tuple[list[Reply], State]:
        number = command.case_number
        case = (
            await cases.get_case(uow, number)
            if number
            else await cases.active_case_for(uow, conversation)
        )
        if case is None or case.customer_id != customer.id or case.status == "closed":
            return [Reply(replies.NO_OPEN_CASE)], state
        try:
            await cases.close_case(uow, case.id, author, customer.display_name)
        except UserFacingError as exc:
            return [Reply(exc.safe_message)], state
        notify.to_agents(uow, self._desk, case, replies.customer_closed(case.id))
        await notify.update_escalation(uow, self._desk, case)
        return [Reply(replies.case_closed(case.id))], State.IDLE


def decision_summary(decision: Decision) -> str:
    """For debug logs: the state change and the commands of a decision."""
    return f"{decision.state} {[type(c).__name__ for c in decision.commands]}"
