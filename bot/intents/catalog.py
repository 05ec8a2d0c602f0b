"""The business's intents in the database: list, show, create, retire, examples in and out,
actions. Every change goes into the audit trail in the caller's transaction; a change to what
the model trains on marks the session (``retraining_wanted``) so the desk retrains once the
transaction commits. The dialog's own intents (``builtin_intents``) are built in: never stored,
never edited here."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import DIALOG_NLU_DATA
from bot.errors import InvalidCommand, NotFound
from bot.intents.actions import ARTICLE, IntentAction
from bot.storage.content import INTENTS, bump_version, record_change
from bot.storage.models import Article, IntentExample, IntentRecord
from nlu.classifier import OUT_OF_SCOPE
from nlu.markup import AnnotationError, strip_annotations
from nlu.training_data import TrainingData, load_training_data

RETRAIN = "helpdesk.intents.retrain"  # the session.info key that asks for a retrain
_NAME = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
MAX_EXAMPLE = 500


@cache
def _dialog_data() -> TrainingData:
    return load_training_data(DIALOG_NLU_DATA)


def builtin_intents() -> frozenset[str]:
    """The dialog's own intents (greet, thanks, human_handoff …): built in, not editable."""
    return frozenset(_dialog_data().intents)


def builtin_examples(name: str) -> list[str]:
    return _dialog_data().texts(name)


def example_key(text: str) -> str:
    """One example, one intent: the plain text (markup removed), case-folded, hashed."""
    plain, _ = strip_annotations(text)
    return hashlib.sha256(" ".join(plain.split()).casefold().encode()).hexdigest()


def retraining_wanted(session: AsyncSession) -> bool:
    """Whether this session changed what the model trains on (and forget it: asked once)."""
    return bool(session.info.pop(RETRAIN, False))


def _want_retraining(session: AsyncSession) -> None:
    session.info[RETRAIN] = True


@dataclass(frozen=True)
class IntentSummary:
    name: str
    examples: int
    builtin: bool = False
    retired: bool = False
    action: IntentAction | None = None


@dataclass(frozen=True)
class Added:
    """What ``add`` did: the examples that are new, and those already an intent's."""

    added: list[str] = field(default_factory=list)
    already: list[tuple[str, str]] = field(default_factory=list)  # (example, its intent)


def _refuse_builtin(name: str, doing: str) -> None:
    if name in builtin_intents():
        raise InvalidCommand(
            f"'{name}' is one of the dialog's own intents: it is built in and cannot be "
            f"{doing} here."
        )


async def _live(session: AsyncSession, name: str, doing: str) -> IntentRecord:
    _refuse_builtin(name, doing)
    record = await session.get(IntentRecord, name)
    if record is None or record.retired_at is not None:
        raise NotFound(f"There is no intent '{name[:64]}'. See 'intent list'.")
    return record


async def list_intents(session: AsyncSession) -> list[IntentSummary]:
    """The business's intents (retired ones last), then the built-in ones."""
    counts = dict(
        (
            await session.execute(
                select(IntentExample.intent, func.count()).group_by(IntentExample.intent)
            )
        ).all()
    )
    records = (await session.scalars(select(IntentRecord).order_by(IntentRecord.name))).all()
    own = [
        IntentSummary(
            r.name,
            int(counts.get(r.name, 0)),
            retired=r.retired_at is not None,
            action=IntentAction.from_data(r.action),
        )
        for r in records
    ]
    own.sort(key=lambda s: s.retired)
    dialog = _dialog_data().intents
    builtin = [
        IntentSummary(name, len(examples), builtin=True) for name, examples in dialog.items()
    ]
    return own + builtin


async def examples_of(session: AsyncSession, name: str) -> list[str]:
    rows = await session.scalars(
        select(IntentExample.text).where(IntentExample.intent == name).order_by(IntentExample.id)
    )
    return list(rows)


async def find_intent(session: AsyncSession, name: str) -> IntentRecord | None:
    return await session.get(IntentRecord, name)


async def create_intent(
    session: AsyncSession, name: str, *, actor: str, platform: str, at: datetime
) -> bool:
    """Create (or bring back a retired) intent; False when it already exists and is live."""
    if not _NAME.match(name):
        raise InvalidCommand(
            "An intent's name is 2–64 lower-case letters, digits and underscores, starting "
            "with a letter (e.g. pizza_order)."
        )
    _refuse_builtin(name, "created")
    if name == OUT_OF_SCOPE:
        raise InvalidCommand(f"'{OUT_OF_SCOPE}' is reserved for off-topic examples.")
    record = await session.get(IntentRecord, name)
    if record is not None and record.retired_at is None:
        return False
    if record is None:
        session.add(IntentRecord(name=name, action={}, created_at=at, created_by=actor))
    else:
        record.retired_at, record.retired_by = None, ""
        _want_retraining(session)  # its examples train again
    record_change(
        session,
        at=at,
        actor=actor,
        platform=platform,
        action="intent.create" if record is None else "intent.restore",
        target=name,
    )
    await session.flush()
    return True


async def retire_intent(
    session: AsyncSession, name: str, *, actor: str, platform: str, at: datetime
) -> int:
    """Take an intent out of the model (its examples are kept, should it come back); returns
    how many examples it had."""
    if name == OUT_OF_SCOPE:
        raise InvalidCommand(f"'{OUT_OF_SCOPE}' cannot be retired; remove its examples instead.")
    record = await _live(session, name, "retired")
    record.retired_at, record.retired_by = at, actor
    count = len(await examples_of(session, name))
    record_change(
        session,
        at=at,
        actor=actor,
        platform=platform,
        action="intent.retire",
        target=name,
        detail={"examples": count},
    )
    _want_retraining(session)
    return count


def clean_example(text: str) -> str:
    """One example as stored (Rasa markup kept); a clear error for one that cannot be."""
    text = " ".join(text.split())
    if not text:
        raise InvalidCommand("An example can't be empty.")
    if len(text) > MAX_EXAMPLE:
        raise InvalidCommand(f"An example is at most {MAX_EXAMPLE} characters.")
    try:
        plain, _ = strip_annotations(text)
    except AnnotationError as exc:
        raise InvalidCommand(f"'{text[:60]}': {exc}") from exc
    if not plain.strip():
        raise InvalidCommand("An example can't be empty.")
    return text


async def add(
    session: AsyncSession,
    intent: str,
    examples: Sequence[str],
    *,
    actor: str,
    platform: str,
    at: datetime,
) -> Added:
    """Add ``examples`` to ``intent``: new ones are stored, ones already there (in this or
    another live intent) are reported, not moved. An example of a retired intent moves."""
    await _live(session, intent, "edited")
    outcome = Added()
    seen: set[str] = set()
    for raw in examples:
        text = clean_example(raw)
        key = example_key(text)
        if key in seen:
            continue
        seen.add(key)
        existing = await session.scalar(select(IntentExample).where(IntentExample.text_key == key))
        if existing is not None:
            owner = await session.get(IntentRecord, existing.intent)
            if owner is not None and owner.retired_at is None:
                outcome.already.append((text, existing.intent))
                continue
            await session.delete(existing)
            await session.flush()
        session.add(
            IntentExample(intent=intent, text=text, text_key=key, added_at=at, added_by=actor)
        )
        outcome.added.append(text)
    if outcome.added:
        record_change(
            session,
            at=at,
            actor=actor,
            platform=platform,
            action="intent.examples.add",
            target=intent,
            detail={"examples": outcome.added},
        )
        _want_retraining(session)
        await session.flush()
    return outcome


async def remove(
    session: AsyncSession,
    intent: str,
    examples: Sequence[str],
    *,
    actor: str,
    platform: str,
    at: datetime,
) -> list[str]:
    """Remove ``examples`` from ``intent``; returns those that were there."""
    await _live(session, intent, "edited")
    removed: list[str] = []
    for raw in examples:
        key = example_key(clean_example(raw))
        row = await session.scalar(
            select(IntentExample).where(
                IntentExample.text_key == key, IntentExample.intent == intent
            )
        )
        if row is not None:
            removed.append(row.text)
            await session.delete(row)
    if removed:
        record_change(
            session,
            at=at,
            actor=actor,
            platform=platform,
            action="intent.examples.remove",
            target=intent,
            detail={"examples": removed},
        )
        _want_retraining(session)
        await session.flush()
    return removed


async def set_action(
    session: AsyncSession,
    intent: str,
    action: IntentAction | None,
    *,
    queues: Collection[str],
    actor: str,
    platform: str,
    at: datetime,
) -> None:
    """Set what ``intent`` does (None: the dialog's default). The article or queue it names
    must exist. Every process serves the new action from its next message (a content
    version bump; no retraining: the model is unchanged)."""
    record = await _live(session, intent, "given an action")
    if intent == OUT_OF_SCOPE:
        raise InvalidCommand(f"'{OUT_OF_SCOPE}' never acts: it marks what the desk doesn't cover.")
    if action is not None and action.kind == ARTICLE:
        if await session.scalar(select(Article.id).where(Article.slug == action.value)) is None:
            raise NotFound(f"There is no article '{action.value[:80]}'.")
    elif action is not None and action.kind != "say":
        known = {q.lower(): q for q in queues}
        if action.value.lower() not in known:
            raise NotFound(f"There is no queue '{action.value[:40]}'. Queues: {', '.join(queues)}.")
        action = IntentAction(action.kind, known[action.value.lower()])
    before = record.action or {}
    record.action = action.to_data() if action is not None else {}
    record_change(
        session,
        at=at,
        actor=actor,
        platform=platform,
        action="intent.action",
        target=intent,
        detail={"before": before, "after": record.action},
    )
    await bump_version(session, INTENTS, at=at, by=actor)


async def add_examples(
    session: AsyncSession,
    intent: str,
    examples: list[str],
    *,
    actor: str,
    platform: str,
    at: datetime,
) -> int:
    """Add ``examples`` to the business's ``intent`` in the caller's transaction; returns how
    many were new. Once the transaction commits, the desk retrains in the background and every
    process serves the new model from its next message. Raises ``NotFound`` for an unknown or
    retired intent, ``InvalidCommand`` for a built-in one or an example that cannot be stored;
    examples already an intent's are skipped (not counted)."""
    outcome = await add(session, intent, examples, actor=actor, platform=platform, at=at)
    return len(outcome.added)
