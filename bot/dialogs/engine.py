"""The dialog engine: does the I/O around the pure ``decide`` for one customer message.

One message per conversation at a time: an asyncio lock inside the process and, on PostgreSQL,
a row lock on the dialog session (``SELECT … FOR UPDATE``) across processes. Everything a message
changes — case, transcript, feedback, replies in the outbox, the session — commits together.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.cases import service as cases
from bot.cases.customers import customer_for
from bot.cases.handoff import can_reopen
from bot.clock import Clock
from bot.commands import Role, looks_like_command, parse_command
from bot.config import DeskConfig
from bot.dialogs import link_confirm, live_buttons, notify, replies
from bot.dialogs.casework import CustomerCommands
from bot.dialogs.keyed_locks import KeyedLocks
from bot.dialogs.states import (
    Act,
    Clicked,
    Decision,
    Policy,
    Said,
    Signal,
    State,
    Verb,
    decide,
)
from bot.dialogs.understanding import Understander
from bot.errors import InvalidCommand
from bot.logs import about_case
from bot.messages import Inbound, InboundKind, split_payload
from bot.storage.models import Case, DialogSession
from bot.storage.uow import UnitOfWork, UnitOfWorkFactory
from bot.storage.upsert import insert_or_none
from bot.text import clean_text, looks_binary

logger = logging.getLogger(__name__)

RESTING_STATES = {
    State.IDLE,
    State.SUGGESTED,
    State.COLLECTING,
    State.RESOLVED,
    State.COMMENTING,
}


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
        self._locks = KeyedLocks()
        self._commands = CustomerCommands(desk=desk, clock=clock, articles=understander)

    @property
    def conversations_in_hand(self) -> int:
        """Conversations with a lock now (being handled or waited for); 0 when idle."""
        return len(self._locks)

    async def handle(
        self, inbound: Inbound, *, uow_factory: UnitOfWorkFactory | None = None
    ) -> None:
        """Handle one customer inbound in one unit of work, from ``uow_factory`` when given
        (the intake's, which marks the inbound handled in the same transaction)."""
        conversation = str(inbound.channel)
        async with self._locks.hold(conversation):
            signal, early_reply = await self._signal(inbound)
            async with (uow_factory or self._uow_factory)() as uow:
                to, token = notify.private_handle(inbound, commands_only=True)
                if early_reply is not None:
                    notify.to_customer(
                        uow, conversation, early_reply, private_to=to, reply_token=token
                    )
                    await uow.commit()
                    return
                assert signal is not None
                customer = await customer_for(
                    uow, inbound.platform, inbound.user_id, inbound.user_name
                )
                session = await self._session(uow, conversation, customer.id)
                about_case((session.data or {}).get("case"))
                state = State(session.state)
                before = dict(session.data or {})
                signal = await link_confirm.typed_answer(uow, conversation, customer, signal)
                decision = decide(
                    state, session.data or {}, signal, self._policy, self._clock.now()
                )
                replies_out = list(decision.replies)
                data = dict(decision.data)
                next_state = decision.state
                for command in decision.commands:
                    more, next_state = await self._commands.run(
                        uow, command, inbound, customer, data, next_state
                    )
                    replies_out.extend(more)
                if replies_out or decision.commands:  # a no-op (an old button) changes nothing
                    await live_buttons.retire(uow, conversation, before, data)
                # a slash command's answers go to its sender only
                live_buttons.send(
                    uow, conversation, replies_out, data, private_to=to, reply_token=token
                )
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
            if call.role == Role.ADMIN:  # an admin verb where customers write: refused, logged
                who = f"{inbound.platform}:{inbound.user_id}"
                logger.warning("refused %s from %s (a customer conversation)", call.verb, who)
                return None, replies.NOT_AN_ADMIN
            if call.role != Role.CUSTOMER:  # an agent's verb, typed by a customer
                logger.warning(
                    "refused %s from %s:%s (a customer)",
                    call.verb,
                    inbound.platform,
                    inbound.user_id,
                )
                return None, replies.HELP
            return Verb(call.verb, call.case_number, call.args, history=inbound.context), None
        if not text and not inbound.attachments:
            return None, replies.EMPTY_MESSAGE
        if len(text) > self._desk.max_message_chars:
            return None, replies.too_long(self._desk.max_message_chars)
        if not text:
            return Said(text="", has_attachments=True, attachments=inbound.attachments), None
        understanding = await self._understander.understand(text)
        return (
            Said(
                text=text,
                intent=understanding.intent,
                confidence=understanding.confidence,
                hit=understanding.hit,
                unsupported_language=understanding.unsupported_language,
                has_attachments=bool(inbound.attachments),
                attachments=inbound.attachments,
                tags=tags_from(understanding.entities, self._desk.business.tag_entities),
                wants_person=understanding.wants_person,
                names_a_problem=understanding.names_a_problem,
                urgent=understanding.urgent,
                topic=understanding.topic,
                action=Act(*understanding.action) if understanding.action else None,
            ),
            None,
        )

    async def _session(self, uow: UnitOfWork, conversation: str, customer_id: int) -> DialogSession:
        query = select(DialogSession).where(DialogSession.conversation == conversation)
        session = await uow.session.scalar(query.with_for_update())
        now = self._clock.now()
        if session is None:  # first contact; another process may be creating it right now
            values = {
                "conversation": conversation,
                "customer_id": customer_id,
                "state": State.IDLE.value,
                "data": {},
                "updated_at": now,
            }
            session = await insert_or_none(
                uow.session, DialogSession, values, unique_on=["conversation"]
            ) or await uow.session.scalar(query.with_for_update())
            assert session is not None
        session.blocked_at = None  # they wrote to us: they can be reached again
        stale = now - session.updated_at > timedelta(hours=self._desk.stale_after_hours)
        # A resolved dialog ends with its case's reopen window (below), not with the idle
        # timeout: one window, ``reopen_window_hours`` (``handoff.can_reopen``).
        if stale and State(session.state) in RESTING_STATES - {State.RESOLVED, State.COMMENTING}:
            session.state, session.data = State.IDLE.value, {}
        # A case can change under the dialog (closed by an agent): trust the case table.
        if State(session.state) in (State.CASE_OPEN, State.WITH_AGENT):
            case = await cases.active_case_for(uow, conversation)
            if case is None:
                session.state, session.data = State.IDLE.value, {}
        elif State(session.state) in (State.RESOLVED, State.COMMENTING):
            # Only a case still inside its reopen window is offered to the customer again.
            number = (session.data or {}).get("case")
            case = await uow.session.get(Case, number) if number else None
            window = timedelta(hours=self._desk.reopen_window_hours)
            if case is None or not can_reopen(case, now, window):
                session.state, session.data = State.IDLE.value, {}
            # a comment prompt past its time is expired by ``decide`` (CommentPrompt.until)
        return session


def decision_summary(decision: Decision) -> str:
    """For debug logs: the state change and the commands of a decision."""
    return f"{decision.state} {[type(c).__name__ for c in decision.commands]}"


def tags_from(entities: tuple[dict[str, Any], ...], tagged: Sequence[str]) -> tuple[str, ...]:
    """Case tags from what the customer named: the values of the business's tagged entities
    (``business.tag_entities``, e.g. its product lookup) become tags, so queues can route on
    them (``queues[].tags`` in helpdesk.yml)."""
    return tuple(sorted({str(e["value"]).lower() for e in entities if e.get("entity") in tagged}))
