"""Confirming an identity link on the platform where the code was asked for.

Someone types a link code on platform B: the bot asks in the conversation on A where the code
was shown, "link that B account to this one?", with Yes / No buttons (a typed yes or no works
too, on every platform). Only the code owner's "yes" there merges the two customers; "no", or
no answer within ``linking.CONFIRM_TTL`` (the scheduler's upkeep), cancels, and both sides are
told. The open question is a row in ``link_requests``, so any process answers it the same after
a restart; its buttons are edited away once it is settled.
"""

from __future__ import annotations

import logging
import re

from bot.cases import linking
from bot.dialogs import notify, replies
from bot.dialogs.states import AnswerLink, Clicked, Reply, Said, Signal
from bot.messages import Inbound
from bot.storage.models import Customer, LinkRequest
from bot.storage.uow import UnitOfWork
from bot.text import neutralize_mentions

logger = logging.getLogger(__name__)

_YES = re.compile(r"^\s*(?:yes|y|yeah|yep)\s*[.!]*\s*$", re.IGNORECASE)
_NO = re.compile(r"^\s*(?:no|n|nope)\s*[.!]*\s*$", re.IGNORECASE)


def _minutes() -> int:
    return int(linking.CONFIRM_TTL.total_seconds() // 60)


def _question_key(request: LinkRequest) -> str:
    return f"{request.conversation}:link-request:{request.id}"


def _claimant(request: LinkRequest) -> str:
    return neutralize_mentions(request.claimant_name)


async def ask(uow: UnitOfWork, request: LinkRequest) -> list[Reply]:
    """Put the question to the code's owner where they asked for the code; returns what the
    person who typed the code is told."""
    # an answer only its asker saw (a slash command's) cannot be edited later: not tracked
    key = None if request.private_to else _question_key(request)
    notify.to_customer(
        uow,
        request.conversation,
        replies.link_question(request.claimant_platform, _claimant(request), _minutes()),
        replies.link_question_buttons(request.id),
        private_to=request.private_to,
        ref_key=key,
    )
    return [Reply(replies.link_asked(_minutes()))]


async def typed_answer(
    uow: UnitOfWork, conversation: str, customer: Customer, signal: Signal
) -> Signal:
    """A bare "yes" or "no" from the owner of an open request in this conversation answers
    it, like the buttons (for whoever cannot or does not press them); anything else is left
    to the dialog."""
    if not isinstance(signal, Said):
        return signal
    yes, no = _YES.match(signal.text), _NO.match(signal.text)
    if not (yes or no):
        return signal
    request = await linking.open_request_in(uow, conversation, customer.id)
    if request is None:
        return signal
    return Clicked("link", str(request.id), "yes" if yes else "no")


async def answer(
    uow: UnitOfWork, command: AnswerLink, inbound: Inbound, customer: Customer
) -> list[Reply]:
    """The owner's Yes or No; both sides are told how it ended. Not theirs, or already
    settled (a second press): nothing happens."""
    request = await linking.answer_link_request(
        uow, command.request, customer, str(inbound.channel), yes=command.yes
    )
    if request is None:
        return []
    logger.info("link request %s %s by customer %s", request.id, request.outcome, customer.id)
    return [Reply(await _settled(uow, request, customer.display_name))]


async def expire(uow: UnitOfWork) -> list[int]:
    """Cancel requests nobody answered in time, telling both sides. Returns their ids."""
    expired = await linking.expire_link_requests(uow)
    for request in expired:
        notify.to_customer(
            uow,
            request.conversation,
            await _settled(uow, request, ""),
            private_to=request.private_to,
        )
    if expired:
        logger.info("link requests expired: %s", [r.id for r in expired])
    return [r.id for r in expired]


async def _settled(uow: UnitOfWork, request: LinkRequest, owner_name: str) -> str:
    """Retire the question's buttons and tell the person who typed the code; returns what
    the code's owner is told."""
    outcome = request.outcome or "expired"
    platform, name = request.claimant_platform, _claimant(request)
    if not request.private_to:
        text = replies.link_question_settled(platform, name, outcome)
        await notify.retire_buttons(uow, request.conversation, _question_key(request), text)
    there = {
        "linked": replies.linked(owner_name),
        "declined": replies.LINK_DECLINED_THERE,
        "expired": replies.LINK_EXPIRED_THERE,
    }[outcome]
    notify.to_customer(uow, request.claimant_conversation, there)
    if outcome == "linked":
        return replies.linked_here(platform, name)
    if outcome == "declined":
        return replies.LINK_DECLINED_HERE
    return replies.link_expired_here(platform)
