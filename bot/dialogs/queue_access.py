"""Queues with members: who may see and work a queue's cases.

A queue in helpdesk.yml may list its ``agents`` (and ``managers``). Then only those agents,
the queue's managers and the desk's managers see its cases (``case N``, ``cases``) and act on
them (claim, reply, note, pending, resolve, priority, release, transfer away), only they may
transfer a case into it, and a case of it can be handed only to a member. The queue's managers
have a manager's say over its cases. A queue without ``agents`` is open to every agent.
Refusals name the queue, to the person who tried only.
"""

from __future__ import annotations

from bot.cases import service as cases
from bot.commands import Role
from bot.config import QueueConfig, RoleMembers
from bot.dialogs import replies
from bot.dialogs.desk_context import DeskContext
from bot.dialogs.roles import listed
from bot.errors import PermissionDenied
from bot.escalation.routing import find_queue


def _restricted(ctx: DeskContext, queue_name: str) -> QueueConfig | None:
    queue = find_queue(ctx.desk, queue_name)
    return queue if queue is not None and queue.agents is not None else None


def _in(members: RoleMembers | None, platform: str, user_id: str, groups: frozenset[str]) -> bool:
    return members is not None and listed(members, platform, user_id, groups)


def manages(ctx: DeskContext, queue_name: str) -> bool:
    """A desk manager, or one of this queue's managers."""
    if ctx.has(Role.MANAGER):
        return True
    queue = find_queue(ctx.desk, queue_name)
    inbound = ctx.inbound
    groups = frozenset(inbound.groups)
    return queue is not None and _in(queue.managers, inbound.platform, inbound.user_id, groups)


def may_work(ctx: DeskContext, queue_name: str) -> bool:
    """Whether the acting agent may see and work cases of ``queue_name``."""
    queue = _restricted(ctx, queue_name)
    if queue is None or manages(ctx, queue_name):
        return True
    inbound = ctx.inbound
    return _in(queue.agents, inbound.platform, inbound.user_id, frozenset(inbound.groups))


def agent_may_work(ctx: DeskContext, agent: str, queue_name: str) -> bool:
    """Whether another agent ("platform:user-id") may work ``queue_name``'s cases: listed by id
    (their platform groups are only known when they act themselves)."""
    queue = _restricted(ctx, queue_name)
    if queue is None:
        return True
    platform, _, user_id = agent.partition(":")
    return (
        ctx.roles.has(Role.MANAGER, platform, user_id)
        or _in(queue.agents, platform, user_id, frozenset())
        or _in(queue.managers, platform, user_id, frozenset())
    )


async def check_case(ctx: DeskContext, number: int) -> None:
    """Refuse acting on or looking at case ``number`` when its queue is not the agent's."""
    case = await cases.get_case(ctx.uow, number)
    if not may_work(ctx, case.queue):
        raise PermissionDenied(replies.queue_members_only(number, case.queue))


def check_into(ctx: DeskContext, queue_name: str) -> None:
    """Refuse moving a case into a queue the agent is not a member of."""
    if not may_work(ctx, queue_name):
        raise PermissionDenied(replies.queue_members_only_into(queue_name))
