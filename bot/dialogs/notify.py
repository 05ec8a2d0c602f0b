"""Writing notifications to the outbox: escalation posts and their updates, lines in a case's
agent thread, messages to the customer. Text comes from ``replies``; relayed customer text is
made mention-proof here, once, for every platform."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from bot.config import DeskConfig
from bot.dialogs import replies
from bot.messages import Button, ChannelRef, Outbound, OutboundKind
from bot.storage.models import Case, Customer, DialogSession
from bot.storage.uow import UnitOfWork
from bot.text import neutralize_mentions


def post_key(case_number: int) -> str:
    return f"case:{case_number}:post"


def queue_channel(desk: DeskConfig, case: Case) -> ChannelRef:
    return ChannelRef.parse(desk.queue(case.queue).channel)


def _status_line(case: Case) -> str:
    if case.status == "new":
        return "unclaimed"
    if case.assignee_name and case.status in ("open", "pending"):
        return f"{case.status}, claimed by {case.assignee_name}"
    return case.status


async def _customer_name(uow: UnitOfWork, case: Case) -> str:
    customer = await uow.session.get(Customer, case.customer_id)
    return customer.display_name if customer else ""


async def _post_text(uow: UnitOfWork, case: Case, suggested: str) -> str:
    return replies.escalation_post(
        case.id,
        neutralize_mentions(await _customer_name(uow, case)),
        case.origin_platform,
        case.priority,
        neutralize_mentions(case.subject),
        neutralize_mentions(case.description[:1500]),
        suggested,
        _status_line(case),
    )


async def post_escalation(uow: UnitOfWork, desk: DeskConfig, case: Case, suggested: str) -> None:
    text = await _post_text(uow, case, suggested)
    uow.send(
        Outbound(
            channel=queue_channel(desk, case),
            text=text,
            buttons=replies.escalation_buttons(case.id),
            title=f"#{case.id} {case.subject}"[:90],
        ),
        ref_key=post_key(case.id),
    )


async def update_escalation(uow: UnitOfWork, desk: DeskConfig, case: Case) -> None:
    """Edit the escalation post in place so every agent sees who holds the case."""
    text = await _post_text(uow, case, "")
    buttons: Sequence[Button] = (
        replies.escalation_buttons(case.id) if case.status not in ("resolved", "closed") else ()
    )
    uow.send(
        Outbound(
            channel=queue_channel(desk, case),
            text=text,
            kind=OutboundKind.EDIT,
            buttons=tuple(buttons),
        ),
        edit_key=post_key(case.id),
    )


def to_agents(uow: UnitOfWork, desk: DeskConfig, case: Case, text: str) -> None:
    """A line in the case's agent thread (the reply chain of its escalation post)."""
    uow.send(Outbound(channel=queue_channel(desk, case), text=text), thread_key=post_key(case.id))


def to_customer(
    uow: UnitOfWork,
    conversation: str,
    text: str,
    buttons: Sequence[Button] = (),
    *,
    attribution: str = "",
) -> None:
    uow.send(
        Outbound(
            channel=ChannelRef.parse(conversation),
            text=text,
            buttons=tuple(buttons),
            attribution=attribution,
        )
    )


async def set_customer_state(
    uow: UnitOfWork, conversation: str, state: str, **data: object
) -> None:
    """Move the customer's dialog (e.g. to with_agent when an agent claims their case)."""
    session = await uow.session.scalar(
        select(DialogSession).where(DialogSession.conversation == conversation)
    )
    if session is None:
        return
    session.state = state
    session.data = {k: v for k, v in data.items() if v is not None}
    session.updated_at = uow.clock.now()


def relayed_customer_text(case: Case, customer_name: str, text: str) -> str:
    return replies.customer_wrote(
        case.id, neutralize_mentions(customer_name), neutralize_mentions(text)
    )
