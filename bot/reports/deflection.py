"""What became of each answer the bot showed, as known at a given moment.

Every answer shown falls in exactly one class, so the classes add up to "answers shown":

- *confirmed*: the customer said it helped;
- *not helpful*: they said it did not — to this answer or, within 24 h, to the next one they
  were shown in the same conversation;
- *escalated*: no verdict, and that conversation opened a case within 24 h of the answer;
- *assumed*: none of the above within 24 h, and the 24 h are over (the customer left without
  asking further — a guess, not a verdict, hence kept apart from *confirmed*);
- *undecided*: none of the above yet, and the 24 h are not over.

Only what had happened by the moment counts (a verdict given later is not known then), so the
same moment always gives the same classes, and a later digest can say what became of an
earlier digest's undecided answers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.storage.models import AnswerFeedback

WINDOW = timedelta(hours=24)
CLASSES = ("confirmed", "not_helpful", "escalated", "assumed", "undecided")


@dataclass(frozen=True)
class Breakdown:
    confirmed: int = 0
    not_helpful: int = 0
    escalated: int = 0
    assumed: int = 0
    undecided: int = 0

    @classmethod
    def of(cls, classes: Iterable[str]) -> Breakdown:
        return cls(**Counter(classes))

    @property
    def shown(self) -> int:
        return self.confirmed + self.not_helpful + self.escalated + self.assumed + self.undecided

    @property
    def decided(self) -> int:
        return self.shown - self.undecided

    @property
    def rate(self) -> float | None:
        """Deflected (confirmed + assumed) of the decided answers."""
        return (self.confirmed + self.assumed) / self.decided if self.decided else None

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in CLASSES}


def _answered_at(row: AnswerFeedback) -> datetime:
    return row.answered_at or row.created_at


def classify(
    row: AnswerFeedback,
    at: datetime,
    feedback: Sequence[AnswerFeedback],
    case_openings: Sequence[datetime],
) -> str:
    """The class of ``row`` as known at ``at``; ``feedback`` and ``case_openings`` are those of
    its conversation."""
    if row.helpful is not None and _answered_at(row) < at:
        return "confirmed" if row.helpful else "not_helpful"
    closes = min(row.created_at + WINDOW, at)
    if any(
        other.created_at > row.created_at
        and other.helpful is False
        and other.created_at < closes
        and _answered_at(other) < at
        for other in feedback
    ):
        return "not_helpful"
    if any(row.created_at <= opened < closes for opened in case_openings):
        return "escalated"
    return "assumed" if row.created_at + WINDOW <= at else "undecided"


def breakdown(
    rows: Sequence[AnswerFeedback],
    at: datetime,
    feedback: Sequence[AnswerFeedback],
    case_openings: dict[str, list[datetime]],
) -> tuple[Breakdown, list[str]]:
    """The breakdown of ``rows`` at ``at``, and each row's class (in order)."""
    by_conversation: dict[str, list[AnswerFeedback]] = {}
    for other in feedback:
        by_conversation.setdefault(other.conversation, []).append(other)
    classes = [
        classify(
            row,
            at,
            by_conversation.get(row.conversation, []),
            case_openings.get(row.conversation, []),
        )
        for row in rows
    ]
    return Breakdown.of(classes), classes
