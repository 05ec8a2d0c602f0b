"""Routing rules: the first queue whose rules match a case wins; otherwise the default queue."""

from __future__ import annotations

from bot.config import DeskConfig, QueueConfig


def route(desk: DeskConfig, *, intent: str | None, priority: str, platform: str) -> QueueConfig:
    for queue in desk.queues:
        rules = (queue.intents, queue.priorities, queue.platforms)
        if not any(rules):
            continue
        if queue.intents and intent not in queue.intents:
            continue
        if queue.priorities and priority not in queue.priorities:
            continue
        if queue.platforms and platform not in queue.platforms:
            continue
        return queue
    return desk.queue(desk.default_queue)


def agent_channels(desk: DeskConfig) -> set[str]:
    """Channel refs (without threads) where agents work."""
    from bot.messages import ChannelRef

    return {str(ChannelRef.parse(q.channel).without_thread) for q in desk.queues}
