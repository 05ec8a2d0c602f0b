"""``erase N`` in an agents' channel: an admin confirms a customer's erasure request (asked in
chat with ``/forget``). Anyone else is refused privately, and the refusal is logged."""

from __future__ import annotations

import logging

from bot.cases import erasure
from bot.commands import case_number_in
from bot.dialogs import replies
from bot.dialogs.desk_context import DeskContext
from bot.errors import InvalidCommand
from bot.messages import ChannelRef, Outbound
from bot.storage.models import Customer

logger = logging.getLogger(__name__)


async def confirm_erasure(ctx: DeskContext, args: str) -> None:
    """``erase N`` (the button sends the same): erase the customer of open request ``N`` and
    tell them it is done; ``erase N force`` erases even while an agent works one of their
    cases. The number is the request's, never a case's (not even in a case thread)."""
    first, _, rest = args.strip().partition(" ")
    number = case_number_in(first)  # the same shape: 1-9 ASCII digits, with or without #
    if number is None:
        raise InvalidCommand(replies.ERASE_USAGE)
    request = await erasure.open_request(ctx.uow, number)
    if request is None:
        raise InvalidCommand(replies.no_erasure_request(number))
    customer = await ctx.uow.session.get_one(Customer, request.customer_id)
    tell = request.conversation
    force = rest.strip().lower() == "force"
    done = await erasure.erase_customer(ctx.uow, customer, by=ctx.agent, force=force, via="chat")
    if tell:  # the one row left naming their chat; the retention policy removes it in time
        ctx.uow.send(Outbound(channel=ChannelRef.parse(tell), text=replies.ERASURE_DONE))
    ctx.answer(replies.erased(number, customer.id, done.counts))
