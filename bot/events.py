"""Domain events: what happened, returned by services and handled by whoever cares
(notifying agents, starting SLA timers, updating escalation posts)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    case_number: int


@dataclass(frozen=True)
class CaseOpened(Event):
    subject: str
    priority: str


@dataclass(frozen=True)
class CustomerMessageAdded(Event):
    text: str


@dataclass(frozen=True)
class CaseClaimed(Event):
    agent: str


@dataclass(frozen=True)
class CaseReleased(Event):
    agent: str


@dataclass(frozen=True)
class AgentReplied(Event):
    agent: str
    text: str


@dataclass(frozen=True)
class NoteAdded(Event):
    agent: str


@dataclass(frozen=True)
class CaseResolved(Event):
    by: str


@dataclass(frozen=True)
class CaseClosed(Event):
    by: str


@dataclass(frozen=True)
class CaseReopened(Event):
    by: str


@dataclass(frozen=True)
class CasePending(Event):
    agent: str


@dataclass(frozen=True)
class PriorityChanged(Event):
    priority: str


@dataclass(frozen=True)
class CaseTransferred(Event):
    to_queue: str
    to_agent: str | None
