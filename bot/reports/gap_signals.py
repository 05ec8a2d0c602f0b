"""The signals of a knowledge gap, read from what the desk recorded at the time:

- ``missed``: a question the bot could not act on with confidence (``missed_questions``: no
  article above the answer floor, or — on the way to a case — no topic intent);
- ``unhelpful``: an answer the customer said did not help (``answer_feedback``);
- ``case``: a request that became a case, in the customer's words (its subject: what they
  asked a person about).

A missed question or an unhelpful answer followed by a case in the same conversation within a
day, and before the period's end, names that case (the cases a gap became); the case's own
words are not counted again when they are the same question. Nothing after the period's end
counts, so a period's gaps read the same whenever they are taken again. Texts already erased
(by a customer's erasure or the retention policy) are not signals any more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import AnswerFeedback, Case, MissedQuestion

# a case opened this soon after a question in the same conversation is what that question became
BECAME_WITHIN = timedelta(hours=24)
# case subjects that are not the customer's words: erased or retained texts, and a request for
# a person that never said what about
_NOT_WORDS = {"", "[erased]", "help requested"}


@dataclass(frozen=True)
class Signal:
    key: str  # "missed:12", "feedback:5", "case:3": stable, and free of customer text
    kind: str  # missed | unhelpful | case
    text: str
    at: datetime
    case: int | None = None  # the case it became (a case signal: itself)


def normalized(text: str) -> str:
    return " ".join(text.lower().split()).rstrip("?!. ")


async def collect_signals(session: AsyncSession, since: datetime, until: datetime) -> list[Signal]:
    """Every signal recorded in ``[since, until)``, oldest first."""
    missed = await session.scalars(
        select(MissedQuestion).where(
            MissedQuestion.created_at >= since,
            MissedQuestion.created_at < until,
            MissedQuestion.text != "",
        )
    )
    unhelpful = await session.scalars(
        select(AnswerFeedback).where(
            AnswerFeedback.helpful.is_(False),
            AnswerFeedback.created_at >= since,
            AnswerFeedback.created_at < until,
            AnswerFeedback.query != "",
        )
    )
    cases = list(
        await session.scalars(select(Case).where(Case.created_at >= since, Case.created_at < until))
    )
    asked: list[tuple[str, str, str, datetime, str]] = [
        (f"missed:{m.id}", "missed", m.text, m.created_at, m.conversation) for m in missed
    ] + [
        (f"feedback:{f.id}", "unhelpful", f.query, f.created_at, f.conversation) for f in unhelpful
    ]
    signals: list[Signal] = []
    told: set[tuple[int, str]] = set()  # (case, question) already counted through a question
    for key, kind, text, at, conversation in asked:
        case = _became(cases, conversation, at)
        if case is not None:
            told.add((case.id, normalized(text)))
        signals.append(Signal(key, kind, text, at, case.id if case else None))
    for case in cases:
        words = normalized(case.subject)
        if words in _NOT_WORDS or (case.id, words) in told:
            continue
        signals.append(Signal(f"case:{case.id}", "case", case.subject, case.created_at, case.id))
    return sorted(signals, key=lambda s: (s.at, s.key))


def _became(cases: Sequence[Case], conversation: str, at: datetime) -> Case | None:
    following = [
        c
        for c in cases
        if conversation
        and c.conversation == conversation
        and at <= c.created_at <= at + BECAME_WITHIN
    ]
    return min(following, key=lambda c: c.created_at) if following else None


async def texts_of(session: AsyncSession, keys: Sequence[str]) -> list[str]:
    """The questions behind signal ``keys``, in their order; erased ones are left out."""
    ids: dict[str, list[int]] = {"missed": [], "feedback": [], "case": []}
    for key in keys:
        kind, _, number = key.partition(":")
        if kind in ids and number.isdigit():
            ids[kind].append(int(number))
    found: dict[str, str] = {}
    for row in await session.scalars(
        select(MissedQuestion).where(MissedQuestion.id.in_(ids["missed"]))
    ):
        found[f"missed:{row.id}"] = row.text
    for fb in await session.scalars(
        select(AnswerFeedback).where(AnswerFeedback.id.in_(ids["feedback"]))
    ):
        found[f"feedback:{fb.id}"] = fb.query
    for case in await session.scalars(select(Case).where(Case.id.in_(ids["case"]))):
        found[f"case:{case.id}"] = (
            case.subject if normalized(case.subject) not in _NOT_WORDS else ""
        )
    return [found[k] for k in keys if found.get(k)]
