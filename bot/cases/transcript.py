"""The kinds of lines a case's transcript (and audit trail) holds."""

from __future__ import annotations

import enum

from bot.config import PRIORITIES


class EventKind(enum.StrEnum):
    CUSTOMER_MESSAGE = "customer_message"
    BOT_MESSAGE = "bot_message"
    AGENT_MESSAGE = "agent_message"  # reached the customer
    NOTE = "note"  # internal: never sent to the customer
    STATUS_CHANGE = "status_change"
    CLAIM = "claim"
    RELEASE = "release"
    RATING = "rating"  # the score, and the customer's comment on it (data: comment)
    TRANSFER = "transfer"
    PRIORITY = "priority"
    REOPEN = "reopen"


class CaseStatus(enum.StrEnum):
    NEW = "new"  # open, unclaimed
    OPEN = "open"  # claimed by an agent
    PENDING = "pending"  # waiting on the customer
    RESOLVED = "resolved"
    CLOSED = "closed"


ACTIVE_STATUSES = (CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.PENDING)

__all__ = ["ACTIVE_STATUSES", "PRIORITIES", "CaseStatus", "EventKind"]
