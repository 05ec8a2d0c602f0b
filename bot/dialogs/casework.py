"""Carrying out the customer dialog's commands: opening and adding to cases, status, close,
ratings and their comments, reopening, feedback on suggestions, identity links.

``decide`` says *what* to do; this module does it inside the message's unit of work and returns
what to tell the customer and the state the dialog ends in.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from bot.cases import handoff, linking, queries
from bot.cases import service as cases
from bot.clock import Clock
from bot.config import DeskConfig
from bot.dialogs import notify, replies, sla_notices
from bot.dialogs.states import (
    AddToCase,
    CloseCase,
    Command,
    CommentOnRating,
    LinkIdentity,
    OpenCase,
    RateCase,
    RecordFeedback,
    RecordSuggestion,
    ReopenCase,
    Reply,
    ShowLinkCode,
    ShowStatus,
    State,
)
from bot.errors import UserFacingError
from bot.escalation.routing import route
from bot.messages import Inbound
from bot.storage.models import AnswerFeedback, Customer
from bot.storage.uow import UnitOfWork
from bot.text import neutralize_mentions

logger = logging.getLogger(__name__)

Outcome = tuple[list[Reply], State]

_LINK_REFUSALS = {
    "unknown": replies.LINK_UNKNOWN,
    "expired": replies.LINK_EXPIRED,
    "used": replies.LINK_USED,
    "same": replies.LINK_SAME,
}


class CustomerCommands:
    def __init__(self, *, desk: DeskConfig, clock: Clock) -> None:
        self._desk = desk
        self._clock = clock

    @property
    def reopen_window(self) -> timedelta:
        return timedelta(hours=self._desk.reopen_window_hours)

    async def run(
        self,
        uow: UnitOfWork,
        command: Command,
        inbound: Inbound,
        customer: Customer,
        data: dict[str, Any],
        state: State,
    ) -> Outcome:
        conversation = str(inbound.channel)
        author = f"customer:{inbound.platform}:{inbound.user_id}"
        match command:
            case OpenCase():
                return await self._open(uow, command, inbound, customer, data, author)
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
                    data.clear()
                    return [Reply(replies.HELP)], State.IDLE
                await cases.rate_case(uow, case.id, command.rating, author)
                notify.to_agents(
                    uow, self._desk, case, replies.customer_rated(case.id, command.rating)
                )
                return [], state
            case CommentOnRating():
                case = await cases.get_case(uow, command.case_number)
                if case.customer_id == customer.id:
                    await cases.comment_on_rating(uow, case.id, command.text, author)
                    notify.to_agents(
                        uow,
                        self._desk,
                        case,
                        replies.customer_commented(case.id, neutralize_mentions(command.text)),
                    )
                return [], state
            case ReopenCase():
                return await self._reopen(uow, command, customer, data, author)
            case ShowLinkCode():
                link = await linking.create_link_code(uow, customer.id)
                minutes = int(linking.CODE_TTL.total_seconds() // 60)
                return [Reply(replies.link_code(link.code, minutes))], state
            case LinkIdentity():
                try:
                    kept = await linking.redeem_link_code(uow, command.code, customer)
                except linking.LinkRefused as exc:
                    logger.info("link refused for %s: %s", author, exc.reason)
                    return [Reply(_LINK_REFUSALS[exc.reason])], state
                logger.info("linked %s to customer %s", author, kept.id)
                return [Reply(replies.linked(kept.display_name))], state
        raise AssertionError(f"unhandled command {command!r}")

    async def _open(
        self,
        uow: UnitOfWork,
        command: OpenCase,
        inbound: Inbound,
        customer: Customer,
        data: dict[str, Any],
        author: str,
    ) -> Outcome:
        queue = route(
            self._desk,
            intent=command.intent,
            priority=command.priority,
            platform=inbound.platform,
            tags=command.tags,
        )
        case = await cases.open_case(
            uow,
            customer_id=customer.id,
            customer_author=author,
            customer_name=customer.display_name,
            conversation=str(inbound.channel),
            platform=inbound.platform,
            subject=command.subject,
            transcript=[("customer", text) for text in command.history],
            intent=command.intent,
            priority=command.priority,
            queue=queue.name,
            suggested=command.suggested,
            tags=command.tags,
        )
        data["case"] = case.id
        # due times now, not at commit: the escalation post shows the first-response due time
        await sla_notices.apply_sla_events(uow, self._desk)
        await notify.post_escalation(uow, self._desk, case)
        position = await queries.queue_position(uow, case)
        said = [Reply(replies.case_opened(case.id, position))]
        away = sla_notices.opening_hours_note(self._desk, self._clock.now())
        if away:
            said.append(Reply(away))
        return said, State.CASE_OPEN

    async def _reopen(
        self,
        uow: UnitOfWork,
        command: ReopenCase,
        customer: Customer,
        data: dict[str, Any],
        author: str,
    ) -> Outcome:
        case = await cases.get_case(uow, command.case_number)
        if case.customer_id != customer.id or not handoff.can_reopen(
            case, self._clock.now(), self.reopen_window
        ):
            data.clear()
            return [Reply(replies.RESET_DONE)], State.IDLE
        case = await handoff.reopen_case(
            uow, case.id, author, customer.display_name, self.reopen_window
        )
        await cases.add_customer_message(uow, case, author, customer.display_name, command.text)
        notify.to_agents(
            uow,
            self._desk,
            case,
            replies.reopened_by_customer(
                case.id,
                neutralize_mentions(customer.display_name),
                neutralize_mentions(command.text),
                case.reopen_count,
            ),
        )
        await notify.update_escalation(uow, self._desk, case)
        data.clear()
        data["case"] = case.id
        reply = Reply(replies.case_reopened_for_customer(case.id, case.assignee_name))
        return [reply], State.WITH_AGENT if case.assignee else State.CASE_OPEN

    async def _close(
        self,
        uow: UnitOfWork,
        command: CloseCase,
        customer: Customer,
        conversation: str,
        author: str,
        state: State,
    ) -> Outcome:
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
        notify.close_thread(uow, self._desk, case)
        await notify.update_escalation(uow, self._desk, case)
        return [Reply(replies.case_closed(case.id))], State.IDLE
