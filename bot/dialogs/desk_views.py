"""What agents look up and the macros they send: ``cases …``, ``case N``, ``macro …``."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot.cases import macros, queries
from bot.cases import service as cases
from bot.commands import Role, hint
from bot.dialogs import queue_access, replies
from bot.dialogs.desk_actions import reply
from bot.dialogs.desk_context import DeskContext
from bot.dialogs.notify import for_agents
from bot.errors import InvalidCommand, PermissionDenied
from bot.storage.models import Case, Customer
from bot.text import neutralize_mentions

logger = logging.getLogger(__name__)


async def list_cases(ctx: DeskContext, _number: int | None, args: str) -> None:
    """``cases`` (active), ``cases unclaimed`` (oldest first), ``cases mine``,
    ``cases customer <name or id>``."""
    which, _, rest = args.strip().partition(" ")
    match which.lower():
        case "":
            rows = await queries.active_cases(ctx.uow)
        case "unclaimed":
            rows = await queries.unclaimed_cases(ctx.uow)
        case "mine":
            rows = await queries.cases_of_agent(ctx.uow, ctx.agent)
        case "customer" if rest.strip():
            rows = await queries.cases_of_customer_matching(ctx.uow, rest)
        case _:
            raise InvalidCommand(replies.CASES_USAGE)
    rows = [c for c in rows if queue_access.may_work(ctx, c.queue)]  # members-only queues
    listing = [(c.id, for_agents(ctx.desk, c.subject), c.status, c.assignee_name) for c in rows]
    ctx.answer(replies.agent_case_list(listing))


async def show_case(ctx: DeskContext, number: int | None, _args: str) -> None:
    """The whole transcript: customer, bot and agent messages, internal notes, every change."""
    if number is None:
        raise InvalidCommand(f"Which case? Try '{hint('case')} 12'.")
    case = await cases.get_case(ctx.uow, number)
    customer = await ctx.uow.session.get(Customer, case.customer_id)
    lines = replies.case_header(
        case.id,
        case.subject,
        case.status,
        customer=customer.display_name if customer else "",
        platform=case.origin_platform,
        priority=case.priority,
        queue=case.queue,
        assignee=case.assignee_name,
        reopened=case.reopen_count or 0,
        csat=case.csat,
        csat_comment=case.csat_comment,
    )
    for event in await cases.transcript(ctx.uow, case.id):
        who = event.author_name or event.author
        lines.append(f"{event.created_at:%Y-%m-%d %H:%M} {event.kind} {who}: {event.body}")
    ctx.answer(for_agents(ctx.desk, "\n".join(lines)))


async def macro(ctx: DeskContext, number: int | None, args: str) -> None:
    """``macro list`` · ``macro show NAME [N]`` · ``macro [N] NAME`` (send) ·
    ``macro set NAME text…`` · ``macro delete NAME`` (the last two for admins)."""
    sub, _, rest = args.strip().partition(" ")
    rest = rest.strip()
    match sub.lower():
        case "" | "help":
            ctx.answer(replies.MACRO_USAGE)
        case "list":
            rows = await macros.list_macros(ctx.uow)
            ctx.answer(
                replies.macro_list([(m.name, m.body) for m in rows]) if rows else replies.NO_MACROS
            )
        case "show":
            name, _, where = rest.partition(" ")
            if where.strip().lstrip("#").isdigit():
                number = int(where.strip().lstrip("#"))
            found = await macros.get_macro(ctx.uow, name)
            text = await _filled(ctx, found.body, number)
            ctx.answer(replies.macro_preview(found.name, neutralize_mentions(text), number))
        case "set" | "delete":
            await _edit(ctx, sub.lower(), rest)
        case _:
            if number is None:
                raise InvalidCommand(f"Which case? Try '{hint('macro')} 12 {sub[:40]}'.")
            found = await macros.get_macro(ctx.uow, sub)
            await reply(ctx, number, await _filled(ctx, found.body, number), macro=found.name)


async def _edit(ctx: DeskContext, verb: str, rest: str) -> None:
    if not ctx.has(Role.ADMIN):
        logger.warning("refused macro %s from %s (not an admin)", verb, ctx.agent)
        raise PermissionDenied(replies.NOT_AN_ADMIN_FOR_MACROS)
    name, _, body = rest.partition(" ")
    if verb == "delete":
        found = await macros.get_macro(ctx.uow, name)
        await macros.delete_macro(ctx.uow, found.name)
        logger.info("macro %s deleted by %s", found.name, ctx.agent)
        ctx.answer(replies.macro_deleted(found.name))
        return
    saved, created = await macros.set_macro(ctx.uow, name, body, ctx.agent)
    logger.info("macro %s %s by %s", saved.name, "added" if created else "updated", ctx.agent)
    ctx.answer(replies.macro_saved(saved.name, created))


async def _filled(ctx: DeskContext, body: str, number: int | None) -> str:
    values = {"agent": ctx.name}
    if number is not None:
        await queue_access.check_case(ctx, number)
        case: Case = await cases.get_case(ctx.uow, number)
        customer = await ctx.uow.session.get(Customer, case.customer_id)
        values["case_number"] = str(case.id)
        values["customer_name"] = (customer.display_name if customer else "") or "there"
    return macros.render(body, values)


View = Callable[[DeskContext, int | None, str], Awaitable[None]]

VIEWS: dict[str, View] = {"cases": list_cases, "case": show_case, "macro": macro}
