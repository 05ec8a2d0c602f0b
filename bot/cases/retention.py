"""The retention policy (``retention:`` in helpdesk.yml), applied by a daily scheduled job.

- ``raw_payloads_days``: the payloads of finished inbox rows (handled, or failed) and outbox
  rows (sent, dropped, or parked) received / written that long ago are emptied, and so is the
  state of dialogs idle that long (the questions a customer asked so far). A failed inbox
  row becomes ``expired`` and a parked outbox row ``dropped``: with their payload gone there is
  nothing left to retry. Rows still in hand are never touched.
- ``closed_case_transcripts_months``: a case closed that long ago loses its texts — subject,
  description, rating comment, every transcript line's body — and keeps its counts, timings
  and rating value, like an erased customer's cases (``erasure``).
- ``feedback_queries_days``: the questions kept with answer feedback, and the questions the
  bot missed (``missed_questions``, for the knowledge-gap review), are emptied; whether the
  answer helped, and that a question was missed, stay countable.

Every step only touches rows not yet emptied, so a run repeated (a second scheduler process,
a restart) changes nothing more.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import String, cast, select, update
from sqlalchemy.engine import CursorResult

from bot.cases.erasure import ERASED
from bot.config import RetentionConfig
from bot.storage.inbox import EXPIRED
from bot.storage.models import (
    AnswerFeedback,
    Case,
    CaseEvent,
    DialogSession,
    InboxMessage,
    MissedQuestion,
    OutboxMessage,
)
from bot.storage.uow import UnitOfWork, UnitOfWorkFactory

logger = logging.getLogger(__name__)


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` calendar months earlier (the month's last day when
    that month is shorter)."""
    total = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(total, 12)
    month += 1
    for day in range(moment.day, 27, -1):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    return moment.replace(year=year, month=month, day=min(moment.day, 28))


async def apply_retention(uow: UnitOfWork, policy: RetentionConfig) -> dict[str, int]:
    """Apply ``policy`` inside ``uow`` (the caller commits); how many rows each step emptied."""
    now = uow.clock.now()
    counts: dict[str, int] = {}
    if policy.raw_payloads_days is not None:
        cutoff = now - timedelta(days=policy.raw_payloads_days)
        counts.update(await _raw_payloads(uow, cutoff))
    if policy.closed_case_transcripts_months is not None:
        cutoff = months_before(now, policy.closed_case_transcripts_months)
        counts["closed_cases"] = await _closed_cases(uow, cutoff)
    if policy.feedback_queries_days is not None:
        cutoff = now - timedelta(days=policy.feedback_queries_days)
        counts["feedback_queries"] = await _rowcount(
            uow,
            update(AnswerFeedback)
            .where(AnswerFeedback.created_at < cutoff, AnswerFeedback.query != "")
            .values(query=""),
        )
        counts["missed_questions"] = await _rowcount(
            uow,
            update(MissedQuestion)
            .where(MissedQuestion.created_at < cutoff, MissedQuestion.text != "")
            .values(text=""),
        )
    return counts


async def run_retention(uow_factory: UnitOfWorkFactory, policy: RetentionConfig) -> dict[str, int]:
    """The scheduled job: one transaction."""
    async with uow_factory() as uow:
        counts = await apply_retention(uow, policy)
        await uow.commit()
    if any(counts.values()):
        logger.info("retention policy applied: %s", counts)
    return counts


async def _raw_payloads(uow: UnitOfWork, cutoff: datetime) -> dict[str, int]:
    inbox_full = cast(InboxMessage.payload, String) != "{}"
    outbox_full = cast(OutboxMessage.payload, String) != "{}"
    handled = await _rowcount(
        uow,
        update(InboxMessage)
        .where(InboxMessage.status == "done", InboxMessage.received_at < cutoff, inbox_full)
        .values(payload={}, error=None),
    )
    failed = await _rowcount(
        uow,
        update(InboxMessage)
        .where(InboxMessage.status == "failed", InboxMessage.received_at < cutoff)
        .values(payload={}, error=None, status=EXPIRED),
    )
    finished = await _rowcount(
        uow,
        update(OutboxMessage)
        .where(
            OutboxMessage.status.in_(("sent", "dropped")),
            OutboxMessage.created_at < cutoff,
            outbox_full,
        )
        .values(payload={}, last_error=None),
    )
    parked = await _rowcount(
        uow,
        update(OutboxMessage)
        .where(OutboxMessage.status == "parked", OutboxMessage.created_at < cutoff)
        .values(payload={}, last_error=None, status="dropped"),
    )
    dialogs = await _rowcount(  # a dialog idle this long is stale anyway: its history goes
        uow,
        update(DialogSession)
        .where(DialogSession.updated_at < cutoff, cast(DialogSession.data, String) != "{}")
        .values(data={}, state="idle"),
    )
    return {
        "inbox_payloads": handled + failed,
        "outbox_payloads": finished + parked,
        "dialog_sessions": dialogs,
    }


async def _closed_cases(uow: UnitOfWork, cutoff: datetime) -> int:
    due = select(Case.id).where(
        Case.status == "closed", Case.closed_at < cutoff, Case.subject != ERASED
    )
    await _rowcount(uow, update(CaseEvent).where(CaseEvent.case_id.in_(due)).values(body=""))
    await _rowcount(
        uow,
        update(CaseEvent)
        .where(CaseEvent.case_id.in_(due), CaseEvent.author.startswith("customer:"))
        .values(data={}),  # what they attached
    )
    return await _rowcount(
        uow,
        update(Case)
        .where(Case.id.in_(due))
        .values(subject=ERASED, description="", csat_comment=None),
    )


async def _rowcount(uow: UnitOfWork, statement: object) -> int:
    result = await uow.session.execute(
        statement.execution_options(synchronize_session=False)  # type: ignore[attr-defined]
    )
    assert isinstance(result, CursorResult)
    return int(result.rowcount)
