"""Writing notifications to the outbox: escalation posts and their updates, lines in a case's
agent thread, messages to the customer. Text comes from ``replies``; relayed customer text is
made mention-proof here, once, for every platform."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from bot.cases import queries
from bot.config import DeskConfig
from bot.dialogs import replies
from bot.escalation import sla
from bot.escalation.calendar import BusinessCalendar
from bot.masking import mask_contacts
from bot.messages import Button, ChannelRef, Inbound, InboundKind, Outbound, OutboundKind, SentRef
from bot.storage.models import Case, Customer, DialogSession, SentRefRecord
from bot.storage.uow import UnitOfWork
from bot.text import neutralize_mentions


def for_agents(desk: DeskConfig, text: str) -> str:
    """A customer's words as agents see them: no mentions that ping, and — when
    ``privacy.mask_agent_view`` is on — email addresses and phone numbers masked."""
    masked = mask_contacts(text) if desk.privacy.mask_agent_view else text
    return neutralize_mentions(masked)  # after masking: a broken mention is no email


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


async def _post_text(uow: UnitOfWork, desk: DeskConfig, case: Case) -> str:
    # The card shows due times: derive them from everything done so far in this unit of work
    # (a priority change or transfer is otherwise only applied at commit, after the redraw).
    await sla.recompute(uow, case, desk.sla, BusinessCalendar.from_config(desk.business_hours))
    return replies.escalation_post(
        case.id,
        neutralize_mentions(await _customer_name(uow, case)),
        case.origin_platform,
        case.priority,
        for_agents(desk, case.subject),
        for_agents(desk, case.description[:1500]),
        await queries.suggestion_of(uow, case.id),
        _status_line(case),
        queue=case.queue,
        first_response_due=case.first_response_due_at if case.first_response_at is None else None,
        reopened=case.reopen_count or 0,
        tags=case.tags or (),
    )


def _buttons(case: Case) -> tuple[Button, ...]:
    return replies.escalation_buttons(case.id) if case.status not in ("resolved", "closed") else ()


async def post_escalation(uow: UnitOfWork, desk: DeskConfig, case: Case) -> None:
    """The case's post in its queue's channel: what agents claim from, and whose reply chain
    is the case thread."""
    uow.send(
        Outbound(
            channel=queue_channel(desk, case),
            text=await _post_text(uow, desk, case),
            buttons=_buttons(case),
            title=f"#{case.id} {case.subject}"[:90],
        ),
        ref_key=post_key(case.id),
    )


async def update_escalation(uow: UnitOfWork, desk: DeskConfig, case: Case) -> None:
    """Edit the escalation post in place so every agent sees who holds the case."""
    uow.send(
        Outbound(
            channel=queue_channel(desk, case),
            text=await _post_text(uow, desk, case),
            kind=OutboundKind.EDIT,
            buttons=_buttons(case),
        ),
        edit_key=post_key(case.id),
    )


async def move_escalation(
    uow: UnitOfWork, desk: DeskConfig, case: Case, from_queue: str, target: str, by: str
) -> None:
    """After a transfer to another queue: the old post says where the case went (and loses its
    buttons), the old thread is told, and the new queue's channel gets a fresh post."""
    old_channel = ChannelRef.parse(desk.queue(from_queue).channel)
    record = await uow.session.get(SentRefRecord, post_key(case.id))
    if record is not None:  # the old post was delivered: edit it where it is
        uow.send(
            Outbound(
                channel=old_channel,
                text=replies.transferred_away_post(
                    case.id, for_agents(desk, case.subject), target, by
                ),
                kind=OutboundKind.EDIT,
                edit_of=SentRef.from_dict(record.ref),
            )
        )
        thread = record.ref.get("thread") or record.ref.get("message_id")
        uow.send(
            Outbound(
                channel=old_channel.in_thread(str(thread)),
                text=replies.transferred_to(case.id, target, by),
            )
        )
    await post_escalation(uow, desk, case)


def to_agents(uow: UnitOfWork, desk: DeskConfig, case: Case, text: str) -> None:
    """A line in the case's agent thread (the reply chain of its escalation post)."""
    uow.send(Outbound(channel=queue_channel(desk, case), text=text), thread_key=post_key(case.id))


def private_handle(inbound: Inbound, *, commands_only: bool = False) -> tuple[str, str]:
    """``Outbound.private_to`` and ``reply_token`` that show an answer to ``inbound``'s sender
    only (empty: for everyone there). With
    ``commands_only``, just for a command that came with the platform's private handle (a
    Slack ``/helpdesk`` command's ``response_url``, a Discord interaction): what a slash command
    asks is nobody else's business, while an ``@bot cases`` in a thread is answered there."""
    if commands_only and not (inbound.kind == InboundKind.COMMAND and inbound.reply_token):
        return "", ""
    return inbound.user_id, inbound.reply_token


def close_thread(uow: UnitOfWork, desk: DeskConfig, case: Case) -> None:
    """A closed case's agent thread is archived (and locked where the bot may): the case is
    done, and its thread leaves the list of active ones. After the last line to it."""
    uow.send(
        Outbound(channel=queue_channel(desk, case), text="", kind=OutboundKind.CLOSE_THREAD),
        thread_key=post_key(case.id),
    )


def to_customer(
    uow: UnitOfWork,
    conversation: str,
    text: str,
    buttons: Sequence[Button] = (),
    *,
    attribution: str = "",
    private_to: str = "",
    reply_token: str = "",
    tell: dict[str, str] | None = None,
    ref_key: str | None = None,
    text_format: str = "plain",
) -> None:
    """``private_to`` (with the inbound's ``reply_token``): only that person sees it — an
    answer to their command in a shared channel. ``text_format`` "markdown": the text keeps
    its author's markdown (an agent's reply), which each adapter shows or degrades. ``tell``
    (from ``outcome_lines``) has the sender write the outcome to a case thread; ``ref_key``
    names a message whose buttons are retired later (edited away)."""
    uow.send(
        Outbound(
            channel=ChannelRef.parse(conversation),
            text=text,
            buttons=tuple(buttons),
            format=text_format,
            attribution=attribution,
            private_to=private_to,
            reply_token=reply_token,
        ),
        notify=tell,
        ref_key=ref_key,
    )


def outcome_lines(
    desk: DeskConfig, case: Case, text: str, *, confirm: bool = False
) -> dict[str, str]:
    """What the case thread is told about ``text`` sent to the customer: if it could not be
    delivered, if the customer can't be reached, and (``confirm``) once it is delivered. The
    outbox row carries these lines; the sender queues the one that happens (``bot.delivery``)."""
    conversation = ChannelRef.parse(case.conversation)
    shown = neutralize_mentions(text)
    lines = {
        "channel": str(queue_channel(desk, case)),
        "thread_key": post_key(case.id),
        "failed": replies.customer_message_failed(case.id, shown, str(conversation.without_thread)),
        "unreachable": replies.customer_unreachable(case.id, shown, conversation.platform),
    }
    if confirm:
        lines["delivered"] = replies.reply_delivered(case.id)
    return lines


def rating_key(conversation: str, case_number: int) -> str:
    return f"{conversation}:rating:{case_number}"


async def retire_buttons(uow: UnitOfWork, conversation: str, key: str, text: str) -> None:
    """Edit a customer's message so its buttons go: once used or outdated, a button must not
    be pressed again. Only a message that was delivered can be edited."""
    if await uow.session.get(SentRefRecord, key) is None:
        return
    uow.send(
        Outbound(channel=ChannelRef.parse(conversation), text=text, kind=OutboundKind.EDIT),
        edit_key=key,
    )


async def retire_rating_buttons(
    uow: UnitOfWork, conversation: str, case_number: int, rating: int
) -> None:
    text = replies.case_resolved_rated(case_number, rating)
    await retire_buttons(uow, conversation, rating_key(conversation, case_number), text)


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


def relayed_customer_text(desk: DeskConfig, case: Case, customer_name: str, text: str) -> str:
    return replies.customer_wrote(
        case.id, neutralize_mentions(customer_name), for_agents(desk, text)
    )
