"""Agent actions on one case: claim, release, reply, note, pending, resolve, priority, transfer.

Each changes the case through the cases service (which writes the audit trail), then tells the
people concerned: the case thread, the escalation post (edited in place) and the customer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from bot.cases import handoff, queries, triage
from bot.cases import service as cases
from bot.commands import Role, hint
from bot.dialogs import notify, queue_access, replies
from bot.dialogs.desk_context import DeskContext
from bot.dialogs.states import State
from bot.errors import InvalidCommand, PermissionDenied
from bot.escalation.routing import find_queue
from bot.messages import Button
from bot.storage.models import Case


async def claim(ctx: DeskContext, number: int, _args: str) -> None:
    case = await cases.claim_case(ctx.uow, number, ctx.agent, ctx.name)
    await notify.update_escalation(ctx.uow, ctx.desk, case)
    notify.to_agents(ctx.uow, ctx.desk, case, replies.claimed_by(number, ctx.name))
    _to_customer(ctx, case, replies.agent_joined(ctx.name, number))
    await notify.set_customer_state(ctx.uow, case.conversation, State.WITH_AGENT, case=number)


async def release(ctx: DeskContext, number: int, _args: str) -> None:
    manager = await _holder_or_manager(ctx, number)
    case = await cases.release_case(ctx.uow, number, ctx.agent, ctx.name, manager=manager)
    await notify.update_escalation(ctx.uow, ctx.desk, case)
    notify.to_agents(ctx.uow, ctx.desk, case, replies.released_by(number, ctx.name))
    _to_customer(ctx, case, replies.case_released_to_customer(number))
    await notify.set_customer_state(ctx.uow, case.conversation, State.CASE_OPEN, case=number)


# How agents' words arrive from each platform: Discord messages are Discord markdown (kept for
# the customer, so an agent's **bold** or `code` is not escaped into backslashes); Telegram's
# entities are not carried (plain text) and Slack's markup is decoded by its adapter.
AGENT_TEXT_FORMAT = {"discord": "markdown"}


async def reply(ctx: DeskContext, number: int, text: str, **extra: object) -> None:
    """Send ``text`` to the customer: the only way anything in the agent channel reaches them."""
    if ctx.inbound.attachments:
        message = replies.agent_attachment_refused(ctx.inbound.attachments)
        if not text:
            raise InvalidCommand(message)
        ctx.answer(message)
    if not text:
        raise InvalidCommand(f"What should I send? Try '{hint('reply')} {number} Hello…'.")
    was_claimed = (await cases.get_case(ctx.uow, number)).assignee is not None
    case = await cases.agent_reply(ctx.uow, number, ctx.agent, ctx.name, text, **extra)
    if not was_claimed:
        await notify.update_escalation(ctx.uow, ctx.desk, case)
    _to_customer(
        ctx,
        case,
        replies.agent_says(ctx.name, text),
        attribution=ctx.name,
        confirm=True,
        text_format=AGENT_TEXT_FORMAT.get(ctx.inbound.platform, "plain"),
    )
    notify.to_agents(ctx.uow, ctx.desk, case, replies.reply_queued(number))
    await notify.set_customer_state(ctx.uow, case.conversation, State.WITH_AGENT, case=number)


async def note(ctx: DeskContext, number: int, text: str) -> None:
    if not text:
        raise InvalidCommand(f"The note is empty. Try '{hint('note')} {number} …'.")
    case = await cases.add_note(ctx.uow, number, ctx.agent, ctx.name, text)
    notify.to_agents(ctx.uow, ctx.desk, case, replies.note_saved(number))


async def pending(ctx: DeskContext, number: int, _args: str) -> None:
    manager = await _holder_or_manager(ctx, number)
    case = await triage.mark_pending(ctx.uow, number, ctx.agent, ctx.name, manager=manager)
    await notify.update_escalation(ctx.uow, ctx.desk, case)
    notify.to_agents(ctx.uow, ctx.desk, case, replies.pending_set(number, ctx.name))
    _to_customer(ctx, case, replies.case_pending_to_customer(number))
    await notify.set_customer_state(ctx.uow, case.conversation, State.WITH_AGENT, case=number)


async def resolve(ctx: DeskContext, number: int, _args: str) -> None:
    await _holder_or_manager(ctx, number)
    case = await cases.resolve_case(ctx.uow, number, ctx.agent, ctx.name)
    await notify.update_escalation(ctx.uow, ctx.desk, case)
    notify.to_agents(ctx.uow, ctx.desk, case, replies.resolved_by(number, ctx.name))
    _to_customer(
        ctx,
        case,
        replies.case_resolved(number),
        replies.rating_buttons(number),
        ref_key=notify.rating_key(case.conversation, number),
    )
    await notify.set_customer_state(ctx.uow, case.conversation, State.RESOLVED, case=number)


async def priority(ctx: DeskContext, number: int, args: str) -> None:
    wanted = args.strip().lower()
    if not wanted:
        raise InvalidCommand(
            f"Which priority? Try '{hint('priority')} {number} high' (low … urgent)."
        )
    await _holder_or_manager(ctx, number)
    case = await triage.set_priority(ctx.uow, number, wanted, ctx.agent, ctx.name)
    await notify.update_escalation(ctx.uow, ctx.desk, case)
    notify.to_agents(ctx.uow, ctx.desk, case, replies.priority_changed(number, wanted, ctx.name))


async def transfer(ctx: DeskContext, number: int, args: str) -> None:
    """``transfer N billing`` (a queue) or ``transfer N @eve`` / ``transfer N Eve`` (an agent)."""
    target = args.strip()
    queue_names = [q.name for q in ctx.desk.queues]
    if not target:  # the Transfer button: offer the other queues as buttons
        current = (await cases.get_case(ctx.uow, number)).queue
        ctx.answer(
            replies.transfer_usage(number, queue_names),
            replies.transfer_buttons(number, [q for q in queue_names if q != current]),
        )
        return
    manager = await _holder_or_manager(ctx, number)
    queue = None if target.startswith("@") else find_queue(ctx.desk, target)
    if queue is not None:
        queue_access.check_into(ctx, queue.name)
        before = (await cases.get_case(ctx.uow, number)).queue
        case = await handoff.transfer_to_queue(
            ctx.uow, number, queue.name, ctx.agent, ctx.name, manager=manager
        )
        await notify.move_escalation(ctx.uow, ctx.desk, case, before, queue.name, ctx.name)
        _to_customer(ctx, case, replies.transferred_to_queue_for_customer(number))
        await notify.set_customer_state(ctx.uow, case.conversation, State.CASE_OPEN, case=number)
        return
    agent = await _agent_for(ctx, target)
    if agent is None:
        raise InvalidCommand(replies.transfer_target_unknown(target, queue_names))
    agent_id, agent_name = agent
    current = (await cases.get_case(ctx.uow, number)).queue
    if not queue_access.agent_may_work(ctx, agent_id, current):
        raise PermissionDenied(replies.not_a_queue_member(agent_name, current))
    case = await handoff.transfer_to_agent(
        ctx.uow, number, agent_id, agent_name, ctx.agent, ctx.name, manager=manager
    )
    await _after_agent_transfer(ctx, case, agent_name)


async def _after_agent_transfer(ctx: DeskContext, case: Case, agent_name: str) -> None:
    await notify.update_escalation(ctx.uow, ctx.desk, case)
    notify.to_agents(ctx.uow, ctx.desk, case, replies.transferred_to(case.id, agent_name, ctx.name))
    _to_customer(ctx, case, replies.transferred_to_agent_for_customer(case.id, agent_name))
    await notify.set_customer_state(ctx.uow, case.conversation, State.WITH_AGENT, case=case.id)


async def _holder_or_manager(ctx: DeskContext, number: int) -> bool:
    """Who may change a case's course (resolve, priority, pending, release, transfer): on a
    claimed case its holder or a manager (the desk's, or its queue's); on an unclaimed one any
    agent. Notes and looking are open to every agent; replying is the holder's (or claims an
    unclaimed case). Returns whether the agent acts as a manager."""
    case = await cases.get_case(ctx.uow, number)
    manager = queue_access.manages(ctx, case.queue)
    if case.assignee in (None, ctx.agent) or manager:
        return manager
    raise PermissionDenied(replies.held_by_another(number, case.assignee_name or case.assignee))


def _to_customer(
    ctx: DeskContext,
    case: Case,
    text: str,
    buttons: Sequence[Button] = (),
    *,
    attribution: str = "",
    confirm: bool = False,
    ref_key: str | None = None,
    text_format: str = "plain",
) -> None:
    """A message to the case's customer whose fate the case thread learns: a line if it can't
    be delivered, and (``confirm``, for an agent's reply) once it is."""
    notify.to_customer(
        ctx.uow,
        case.conversation,
        text,
        buttons,
        attribution=attribution,
        tell=notify.outcome_lines(ctx.desk, case, text, confirm=confirm),
        ref_key=ref_key,
        text_format=text_format,
    )


async def _agent_for(ctx: DeskContext, target: str) -> tuple[str, str] | None:
    """("platform:id", name) for ``@id``, ``@platform:id`` or a name an agent has acted under."""
    handle = target.removeprefix("@").strip()
    platform, sep, user_id = handle.partition(":")
    if not sep:
        platform, user_id = ctx.inbound.platform, handle
    if user_id and ctx.roles.has(Role.AGENT, platform, user_id):
        agent = f"{platform}:{user_id}"
        return agent, await queries.agent_name_of(ctx.uow, agent) or user_id
    if not target.startswith("@"):
        return await queries.agent_named(ctx.uow, handle)
    return None


Action = Callable[[DeskContext, int, str], Awaitable[None]]

ACTIONS: dict[str, Action] = {
    "claim": claim,
    "release": release,
    "reply": reply,
    "note": note,
    "pending": pending,
    "resolve": resolve,
    "priority": priority,
    "transfer": transfer,
}
