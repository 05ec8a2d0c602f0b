"""Intent-example suggestions: a message the classifier missed (no intent, or out of scope)
that an agent then handled in a case is proposed as an example of the intent the case was
about. Each waits for an admin's verdict (``review`` on the missed question: accepted or
rejected), so it is proposed once; its number is the missed question's id, the same in every
process."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.reports.gap_signals import BECAME_WITHIN
from bot.storage.models import Case, MissedQuestion

ACCEPTED, REJECTED = "accepted", "rejected"


@dataclass(frozen=True)
class Suggestion:
    number: int
    text: str
    case: int
    case_intent: str | None  # the intent the case was opened with
    queue: str
    tags: tuple[str, ...]


async def open_suggestions(session: AsyncSession, *, limit: int = 10) -> list[Suggestion]:
    """Missed messages not yet reviewed whose conversation opened a case within a day that
    an agent took up (claimed or answered), oldest first."""
    missed = list(
        await session.scalars(
            select(MissedQuestion)
            .where(
                MissedQuestion.review.is_(None),
                MissedQuestion.intent.is_(None),
                MissedQuestion.text != "",
            )
            .order_by(MissedQuestion.id)
        )
    )
    found: list[Suggestion] = []
    for question in missed:
        case = await handled_case(session, question.conversation, question.created_at)
        if case is not None:
            found.append(
                Suggestion(
                    question.id,
                    question.text,
                    case.id,
                    case.intent,
                    case.queue,
                    tuple(case.tags or ()),
                )
            )
        if len(found) >= limit:
            break
    return found


async def suggestion(session: AsyncSession, number: int) -> Suggestion | None:
    """Suggestion ``number`` while it waits for a verdict (None: no such suggestion)."""
    question = await session.get(MissedQuestion, number)
    if question is None or question.review is not None or question.intent is not None:
        return None
    if not question.text:
        return None
    case = await handled_case(session, question.conversation, question.created_at)
    if case is None:
        return None
    return Suggestion(
        question.id, question.text, case.id, case.intent, case.queue, tuple(case.tags or ())
    )


async def handled_case(session: AsyncSession, conversation: str, at: datetime) -> Case | None:
    if not conversation:
        return None
    return await session.scalar(
        select(Case)
        .where(
            Case.conversation == conversation,
            Case.created_at >= at,
            Case.created_at <= at + BECAME_WITHIN,
            (Case.claimed_at.is_not(None)) | (Case.first_response_at.is_not(None)),
        )
        .order_by(Case.created_at)
        .limit(1)
    )


async def review(
    session: AsyncSession, number: int, verdict: str, *, intent: str | None, by: str, at: datetime
) -> None:
    question = await session.get_one(MissedQuestion, number)
    question.review, question.reviewed_intent = verdict, intent
    question.reviewed_by, question.reviewed_at = by[:200], at
