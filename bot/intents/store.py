"""Trained intent models in the database, where every process of the desk finds them (on
PostgreSQL, processes on other machines too). Storing one bumps the intents content version in
the same transaction: a process serving an older version loads the new model before its next
message. The newest few models are kept; older ones are deleted as new ones arrive."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.content import INTENTS, bump_version, record_change
from bot.storage.models import IntentModelRecord

KEEP = 3  # models kept: the one served, and two before it for a look back


@dataclass(frozen=True)
class StoredModel:
    """A stored model's row, without its blob."""

    id: int
    data_hash: str
    model_name: str
    trained_at: datetime
    evaluation: dict[str, Any]


_COLUMNS = (
    IntentModelRecord.id,
    IntentModelRecord.data_hash,
    IntentModelRecord.model_name,
    IntentModelRecord.trained_at,
    IntentModelRecord.evaluation,
)


async def latest(session: AsyncSession) -> StoredModel | None:
    row = (
        await session.execute(select(*_COLUMNS).order_by(IntentModelRecord.id.desc()).limit(1))
    ).first()
    return StoredModel(*row) if row is not None else None


async def blob_of(session: AsyncSession, model_id: int) -> bytes:
    blob = await session.scalar(
        select(IntentModelRecord.blob).where(IntentModelRecord.id == model_id)
    )
    if blob is None:
        raise LookupError(f"intent model {model_id} is gone")
    return bytes(blob)


async def set_evaluation(session: AsyncSession, model_id: int, evaluation: dict[str, Any]) -> None:
    """Record a stored model's held-out accuracy (measured after it is served)."""
    await session.execute(
        update(IntentModelRecord)
        .where(IntentModelRecord.id == model_id)
        .values(evaluation=evaluation)
    )


async def store(
    session: AsyncSession,
    *,
    blob: bytes,
    data_hash: str,
    model_name: str,
    examples: int,
    evaluation: dict[str, Any],
    at: datetime,
    by: str = "helpdesk",
) -> tuple[int, int]:
    """Store a model in the caller's transaction; returns (its id, the new intents version)."""
    record = IntentModelRecord(
        trained_at=at,
        data_hash=data_hash,
        model_name=model_name,
        examples=examples,
        blob=blob,
        evaluation=evaluation,
    )
    session.add(record)
    await session.flush()
    keep = select(IntentModelRecord.id).order_by(IntentModelRecord.id.desc()).limit(KEEP)
    await session.execute(
        delete(IntentModelRecord).where(IntentModelRecord.id.not_in(keep.scalar_subquery()))
    )
    record_change(
        session,
        at=at,
        actor=by,
        platform="helpdesk",
        action="intents.model",
        target=str(record.id),
        detail={
            "data_hash": data_hash,
            "examples": examples,
            "accuracy": evaluation.get("accuracy"),
        },
    )
    version = await bump_version(session, INTENTS, at=at, by=by)
    return record.id, version
