"""``helpdesk customers export``: everything held about one customer, as JSON-ready data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import inspect, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cases.footprint import Footprint, inbox_rows, link_codes, missed_questions, outbox_rows
from bot.storage.models import (
    AnswerFeedback,
    Base,
    Case,
    CaseEvent,
    DialogSession,
    ErasureRequest,
)


def row_dict(row: Base) -> dict[str, Any]:
    """Every column of ``row``, datetimes in ISO 8601."""
    values: dict[str, Any] = {}
    for column in inspect(type(row)).columns:
        value = getattr(row, column.key)
        values[column.key] = value.isoformat() if isinstance(value, datetime) else value
    return values


async def export_customer(session: AsyncSession, found: Footprint) -> dict[str, Any]:
    customer_id = found.customer.id
    cases = []
    for case in await session.scalars(
        select(Case).where(Case.id.in_(found.case_ids)).order_by(Case.id)
    ):
        events = await session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
        )
        cases.append({**row_dict(case), "transcript": [row_dict(e) for e in events]})
    sessions = await session.scalars(
        select(DialogSession).where(DialogSession.customer_id == customer_id)
    )
    feedback = await session.scalars(
        select(AnswerFeedback)
        .where(
            or_(
                AnswerFeedback.customer_id == customer_id,
                AnswerFeedback.conversation.in_(found.conversations),
            )
        )
        .order_by(AnswerFeedback.id)
    )
    requests = await session.scalars(
        select(ErasureRequest).where(ErasureRequest.customer_id == customer_id)
    )
    return {
        "customer": row_dict(found.customer),
        "identities": [row_dict(i) for i in found.identities],
        "conversations": [row_dict(s) for s in sessions],
        "cases": cases,
        "answer_feedback": [row_dict(f) for f in feedback],
        "missed_questions": [row_dict(q) for q in await missed_questions(session, found)],
        "inbox": [row_dict(r) for r in await inbox_rows(session, found)],
        "outbox": [row_dict(r) for r in await outbox_rows(session, found)],
        "link_codes": [row_dict(c) for c in await link_codes(session, found)],
        "erasure_requests": [row_dict(r) for r in requests],
    }
