"""Carrying out the customer dialog's commands: opening and adding to cases, status, close,
ratings and their comments, reopening, feedback on suggestions, identity links (asked and
confirmed in ``link_confirm``).

``decide`` says *what* to do; this module does it inside the message's unit of work and returns
what to tell the customer and the state the dialog ends in.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, Protocol

from bot.cases import erasure, handoff, linking, queries
from bot.cases import service as cases
from bot.clock import Clock
from bot.config import DeskConfig
from bot.dialogs import link_confirm, notify, replies, sla_notices
from bot.dialogs.states import (
    COMMENT_WAIT,
    AddToCase,
    AnswerLink,
    CloseCase,
    Command,
    CommentOnRating,
    CommentPrompt,
    LinkIdentity,
    OpenCase,
    RateCase,
    RecordFeedback,
    RecordMiss,
    RecordSuggestion,
    ReopenCase,
    Reply,
    RequestErasure,
    ShowArticle,
    ShowLinkCode,
    ShowStatus,
    State,
)
from bot.errors import UserFacingError
from bot.escalation.routing import find_queue, route
from bot.knowledge.rendering import message_limit, split_message
from bot.messages import Button, ChannelRef, Inbound, Outbound, button_payload
from bot.metrics import DEFLECTIONS_CONFIRMED
from bot.storage.models import AnswerFeedback, Case, Customer, MissedQuestion
from bot.storage.uow import UnitOfWork
from bot.text import neutralize_mentions

logger = logging.getLogger(__name__)

Outcome = tuple[list[Reply], State]

_LINK_REFUSALS = {
    "unknown": replies.LINK_UNKNOWN,
    "expired": replies.LINK_EXPIRED,
    "used": replies.LINK_USED,
    "same": replies.LINK_SAME,
    "too_many": replies.LINK_TOO_MANY,
    "pending": replies.LINK_PENDING,
}


class ArticleSource(Protocol):
    def whole_article(self, slug: str) -> tuple[str, str] | None:
        """The article's title and its whole text as people read it, or None."""


class CustomerCommands:
    def __init__(
        self, *, desk: DeskConfig, clock: Clock, articles: ArticleSource | None = None
    ) -> None:
        self._desk = desk
        self._clock = clock
        self._articles = articles

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
                    notify.relayed_customer_text(
                        self._desk, active, customer.display_name, command.text
                    ),
                )
                data["case"] = active.id
                if not command.acknowledge:
                    return [], state
                said = replies.also_added_to_case if command.answered else replies.added_to_case
                return [Reply(said(active.id))], state
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
            case RecordMiss():
                uow.session.add(
                    MissedQuestion(
                        conversation=conversation,
                        customer_id=customer.id,
                        text=command.text,
                        intent=command.intent,
                        confidence=command.confidence,
                        article_slug=command.slug,
                        score=command.score,
                        created_at=self._clock.now(),
                    )
                )
                return [], state
            case RecordFeedback():
                feedback_id = command.feedback_id
                row = await uow.session.get(AnswerFeedback, feedback_id) if feedback_id else None
                if row is not None:
                    if command.helpful and row.helpful is not True:
                        uow.after_commit(DEFLECTIONS_CONFIRMED.inc)
                    row.helpful = command.helpful
                    row.answered_at = self._clock.now()
                return [], state
            case RateCase():
                return await self._rate(uow, command, inbound, customer, data, author, state)
            case CommentOnRating():
                case = await cases.get_case(uow, command.case_number)
                if case.customer_id == customer.id:
                    await cases.comment_on_rating(uow, case.id, command.text, author)
                    notify.to_agents(
                        uow,
                        self._desk,
                        case,
                        replies.customer_commented(
                            case.id, notify.for_agents(self._desk, command.text)
                        ),
                    )
                return [], state
            case ReopenCase():
                return await self._reopen(uow, command, customer, data, author, state)
            case ShowArticle():
                return self._article(command, inbound), state
            case ShowLinkCode():
                private_to, _ = notify.private_handle(inbound, commands_only=True)
                link = await linking.create_link_code(
                    uow, customer.id, conversation=conversation, private_to=private_to
                )
                minutes = int(linking.CODE_TTL.total_seconds() // 60)
                return [Reply(replies.link_code(link.code, minutes))], state
            case LinkIdentity():
                try:
                    request = await linking.request_link(
                        uow,
                        command.code,
                        customer,
                        platform=inbound.platform,
                        user_id=inbound.user_id,
                        name=customer.display_name,
                        conversation=conversation,
                    )
                except linking.LinkRefused as exc:
                    logger.info("link refused for %s: %s", author, exc.reason)
                    return [Reply(_LINK_REFUSALS[exc.reason])], state
                logger.info("link request %s by %s awaits confirmation", request.id, author)
                return await link_confirm.ask(uow, request), state
            case AnswerLink():
                return await link_confirm.answer(uow, command, inbound, customer), state
            case RequestErasure():
                return await self._request_erasure(uow, inbound, customer), state
        raise AssertionError(f"unhandled command {command!r}")

    async def _request_erasure(
        self, uow: UnitOfWork, inbound: Inbound, customer: Customer
    ) -> list[Reply]:
        """Record the request and put it to the admins in the privacy queue's channel."""
        request, new = await erasure.request_erasure(
            uow, customer.id, via="chat", conversation=str(inbound.channel)
        )
        if not new:
            return [Reply(replies.ERASURE_ALREADY_REQUESTED)]
        held = await erasure.cases_held(uow, customer.id)
        queue = self._desk.privacy.requests_queue or self._desk.default_queue
        uow.send(
            Outbound(
                channel=ChannelRef.parse(self._desk.queue(queue).channel),
                text=replies.erasure_requested(request.id, customer.id, inbound.platform, held),
                buttons=(
                    Button(
                        replies.ERASURE_BUTTON,
                        button_payload("erase", "", str(request.id)),
                        style="danger",
                    ),
                ),
            )
        )
        logger.info("customer %s asked to be erased (request %s)", customer.id, request.id)
        return [Reply(replies.ERASURE_REQUESTED)]

    async def _open(
        self,
        uow: UnitOfWork,
        command: OpenCase,
        inbound: Inbound,
        customer: Customer,
        data: dict[str, Any],
        author: str,
    ) -> Outcome:
        # an intent's action may name the queue; else the routing rules decide
        named = find_queue(self._desk, command.queue) if command.queue else None
        queue = named or route(
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
        state: State,
    ) -> Outcome:
        case = await uow.session.get(Case, command.case_number)
        if (
            case is None
            or case.customer_id != customer.id
            or not handoff.can_reopen(case, self._clock.now(), self.reopen_window)
        ):  # an old offer: the case moved on, or its window closed
            return [Reply(replies.cannot_reopen(command.case_number))], state
        case = await handoff.reopen_case(
            uow, case.id, author, customer.display_name, self.reopen_window
        )
        if command.text:
            await cases.add_customer_message(uow, case, author, customer.display_name, command.text)
        notify.to_agents(
            uow,
            self._desk,
            case,
            replies.reopened_by_customer(
                case.id,
                neutralize_mentions(customer.display_name),
                notify.for_agents(self._desk, command.text),
                case.reopen_count,
            ),
        )
        await notify.update_escalation(uow, self._desk, case)
        data.clear()
        data["case"] = case.id
        reply = Reply(replies.case_reopened_for_customer(case.id, case.assignee_name))
        return [reply], State.WITH_AGENT if case.assignee else State.CASE_OPEN

    async def _rate(
        self,
        uow: UnitOfWork,
        command: RateCase,
        inbound: Inbound,
        customer: Customer,
        data: dict[str, Any],
        author: str,
        state: State,
    ) -> Outcome:
        """A rating counts once, for a resolved case of this customer's: a second press on the
        old buttons, a digit typed later or a rating of a reopened case changes nothing."""
        case = await uow.session.get(Case, command.case_number)
        if case is None or case.customer_id != customer.id:
            return [Reply(replies.HELP)], state
        if case.csat is not None:
            return [Reply(replies.already_rated(case.id))], state
        if case.resolved_at is None or case.status not in ("resolved", "closed"):
            return [Reply(replies.cannot_rate(case.id))], state
        await cases.rate_case(uow, case.id, command.rating, author)
        notify.to_agents(uow, self._desk, case, replies.customer_rated(case.id, command.rating))
        await notify.retire_rating_buttons(uow, str(inbound.channel), case.id, command.rating)
        if not command.invite_comment:
            return [Reply(replies.RATING_THANKS_SHORT)], state
        data.clear()
        data["case"] = case.id
        data["prompt"] = CommentPrompt(case.id, self._clock.now() + COMMENT_WAIT).to_data()
        return [Reply(replies.RATING_THANKS, replies.skip_button())], State.COMMENTING

    def _article(self, command: ShowArticle, inbound: Inbound) -> list[Reply]:
        article = self._articles.whole_article(command.slug) if self._articles else None
        if article is None:
            return [Reply(replies.ARTICLE_GONE)]
        title, body = article
        parts = split_message(f"{title}\n\n{body}", message_limit(inbound.platform))
        return [Reply(part) for part in parts]

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
        # a missing case and someone else's get the same answer: no way to probe case numbers
        case = (
            await uow.session.get(Case, number)
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
