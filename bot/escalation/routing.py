"""Routing rules: the first queue whose rules all match a case wins; otherwise the default queue.

A queue's rules are lists — intents, priorities, customer platforms, tags — and an empty list
matches anything; a queue with no rules at all is only reached by name (the default queue,
transfers)."""

from __future__ import annotations

from collections.abc import Iterable

from bot.config import DeskConfig, QueueConfig


def route(
    desk: DeskConfig,
    *,
    intent: str | None,
    priority: str,
    platform: str,
    tags: Iterable[str] = (),
) -> QueueConfig:
    case_tags = set(tags)
    for queue in desk.queues:
        rules = (queue.intents, queue.priorities, queue.platforms, queue.tags)
        if not any(rules):
            continue
        if queue.intents and intent not in queue.intents:
            continue
        if queue.priorities and priority not in queue.priorities:
            continue
        if queue.platforms and platform not in queue.platforms:
            continue
        if queue.tags and not case_tags.intersection(queue.tags):
            continue
        return queue
    return desk.queue(desk.default_queue)


def find_queue(desk: DeskConfig, name: str) -> QueueConfig | None:
    """The queue called ``name`` (case-insensitive), if there is one."""
    wanted = name.strip().lower()
    return next((q for q in desk.queues if q.name.lower() == wanted), None)


def agent_channels(desk: DeskConfig) -> set[str]:
    """Channel refs (without threads) where agents work."""
    from bot.messages import ChannelRef

    return {str(ChannelRef.parse(q.channel).without_thread) for q in desk.queues}
