"""One case as its audit trail tells it up to a moment: status, holder and priority then, its
first reply, its resolutions and reopens, its ratings.

The digests read cases through this, never through the case row: the row holds only the
latest state (a reopen clears ``resolved_at``, a release clears the holder, a second rating
replaces the first), so figures taken from it would change after the period they describe.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from bot.storage.models import Case, CaseEvent

ACTIVE = ("new", "open", "pending")


def actor(event: CaseEvent) -> str:
    """The name a person is credited under (their display name, else their id)."""
    return event.author_name or event.author


@dataclass(frozen=True)
class Timeline:
    """``case`` and its audit trail up to a moment (oldest first). What it tells is computed once
    (``cached_property`` writes past the frozen dataclass, into the instance's ``__dict__``)."""

    case: Case
    events: Sequence[CaseEvent]

    def before(self, moment: datetime) -> Timeline:
        return Timeline(self.case, [e for e in self.events if e.created_at < moment])

    def through(self, event: CaseEvent) -> list[CaseEvent]:
        """The trail up to and including ``event``."""
        return list(self.events[: self.events.index(event) + 1])

    @cached_property
    def status(self) -> str:
        if not self.events:  # no trail: a case from before the audit trail, taken as it is now
            return self.case.status
        status = "new"
        for event in self.events:
            to = (event.data or {}).get("to")
            match event.kind:
                case "status_change" | "reopen" if to:
                    status = str(to)
                case "claim":
                    status = "open"
                case "release" if status == "open":
                    status = "new"
                case "transfer" if (event.data or {}).get("queue") and status == "open":
                    status = "new"
                case "transfer" if (event.data or {}).get("agent") and status == "new":
                    status = "open"
        return status

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @cached_property
    def holder(self) -> str | None:
        holder: str | None = None
        for event in self.events:
            data = event.data or {}
            match event.kind:
                case "claim":
                    holder = actor(event)
                case "release":
                    holder = None
                case "transfer" if data.get("queue"):
                    holder = None
                case "transfer" if data.get("agent"):
                    holder = str(data.get("agent_name") or data["agent"])
        return holder

    @cached_property
    def priority(self) -> str:
        changes = [e for e in self.events if e.kind == "priority"]
        if changes:
            return changes[-1].body
        opening = next((e for e in self.events if e.body == "opened"), None)
        opened_with = (opening.data or {}).get("priority") if opening is not None else None
        if opened_with:
            return str(opened_with)
        return self.case.priority  # a case from before the opening line carried its priority

    @cached_property
    def first_reply(self) -> CaseEvent | None:
        return next((e for e in self.events if e.kind == "agent_message"), None)

    @cached_property
    def resolutions(self) -> list[CaseEvent]:
        return [
            e
            for e in self.events
            if e.kind == "status_change" and (e.data or {}).get("to") == "resolved"
        ]

    @cached_property
    def reopens(self) -> list[CaseEvent]:
        return [e for e in self.events if e.kind == "reopen"]

    def work_started(self, resolution: CaseEvent) -> datetime:
        """When the piece of work ``resolution`` ended began: the opening or the last reopen."""
        reopens = [e.created_at for e in self.reopens if e.created_at <= resolution.created_at]
        return reopens[-1] if reopens else self.case.created_at

    def rated(self, resolution: CaseEvent) -> bool:
        """Whether the customer rated the work ``resolution`` ended (before any reopen)."""
        later_reopens = [e.created_at for e in self.reopens if e.created_at > resolution.created_at]
        until = later_reopens[0] if later_reopens else None
        return any(
            e.created_at >= resolution.created_at and (until is None or e.created_at < until)
            for e in self.ratings
        )

    @cached_property
    def ratings(self) -> list[CaseEvent]:
        return [e for e in self.events if e.kind == "rating" and "rating" in (e.data or {})]
