"""Where the intent model's training data comes from, and how the files and the database stay
in step.

The database is the source of truth for the business's intents (examples and actions). On a
desk's first start it is seeded from ``<data dir>/nlu`` (Rasa YAML; an intent's
``metadata: {action: …}`` is its action). Entities — synonyms, regexes, lookup tables — stay in
the files (they are not edited from chat). The files never silently diverge from the database:
the files' fingerprint at the last seed or import is kept in the audit trail, a start with
changed files says so in the log, ``helpdesk intent import`` takes the files' additions in, and
``helpdesk nlu export`` writes the database's intents out as Rasa YAML.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import DIALOG_NLU_DATA
from bot.errors import ConfigError, UserFacingError
from bot.intents import catalog
from bot.intents.actions import IntentAction, from_metadata
from bot.storage.content import record_change
from bot.storage.locks import lock_for_setup
from bot.storage.models import AuditEntry, IntentExample, IntentRecord
from nlu.errors import NluDataError
from nlu.training_data import (
    TrainingData,
    load_training_data,
    marked_up,
    parse_training_documents,
    to_rasa_document,
)

logger = logging.getLogger(__name__)

SEEDED = ("intents.seed", "intents.import")


def _dialog_documents() -> list[tuple[str, str]]:
    files = sorted(p for p in DIALOG_NLU_DATA.rglob("*") if p.suffix in (".yml", ".yaml"))
    return [(p.read_text(encoding="utf-8"), str(p)) for p in files]


def file_data(topics: Path | None) -> TrainingData | None:
    """The business's files (``<data dir>/nlu``), or None when it has none."""
    if topics is None or not topics.exists():
        return None
    try:
        return load_training_data(topics)
    except NluDataError as exc:
        if "no *.yml" in str(exc) or "no intents found" in str(exc):
            return None
        raise


def _entities_document(files: TrainingData | None) -> str:
    if files is None or not (files.synonyms or files.regexes or files.lookups):
        return ""
    entities = TrainingData(synonyms=files.synonyms, regexes=files.regexes, lookups=files.lookups)
    return to_rasa_document(entities)


def _intents_document(
    intents: list[tuple[str, IntentAction | None, list[str]]], *, with_actions: bool
) -> str:
    lines = ['version: "3.1"', "nlu:"]
    for name, action, examples in intents:
        if not examples:
            continue
        lines.append(f"- intent: {name}")
        if with_actions and action is not None:
            lines.append(f"  metadata: {json.dumps(action.to_metadata(), ensure_ascii=False)}")
        lines.append("  examples: |")
        lines.extend(f"    - {text}" for text in examples)
    if len(lines) == 2:
        lines[1] = "nlu: []"
    return "\n".join(lines) + "\n"


async def _stored_intents(
    session: AsyncSession,
) -> list[tuple[str, IntentAction | None, list[str]]]:
    """Live intents, each with its action and its examples in the order they were added; the
    intents in the order of their first example (the files' order, for seeded ones), so the
    same intents fingerprint the same whether read from the files or from here."""
    records = (
        await session.scalars(select(IntentRecord).where(IntentRecord.retired_at.is_(None)))
    ).all()
    rows = (
        await session.execute(
            select(IntentExample.intent, IntentExample.text).order_by(IntentExample.id)
        )
    ).all()
    examples: dict[str, list[str]] = {}
    for intent, text in rows:
        examples.setdefault(intent, []).append(text)
    order = {name: i for i, name in enumerate(examples)}
    records = sorted(records, key=lambda r: (order.get(r.name, len(order)), r.name))
    return [(r.name, IntentAction.from_data(r.action), examples.get(r.name, [])) for r in records]


async def training_data(session: AsyncSession, topics: Path | None) -> TrainingData:
    """What the model trains on: the dialog's built-in intents, the files' entities and the
    database's live topic intents."""
    documents = _dialog_documents()
    entities = _entities_document(file_data(topics))
    if entities:
        documents.append((entities, f"{topics} (entities)"))
    stored = await _stored_intents(session)
    documents.append((_intents_document(stored, with_actions=False), "the database's intents"))
    return parse_training_documents(documents)


async def export_document(session: AsyncSession, topics: Path | None, *, header: str) -> str:
    """Everything the desk trains on as one Rasa NLU document, actions as intent metadata."""
    data = await training_data(session, topics)
    for name, action, _ in await _stored_intents(session):
        if action is not None:
            data.intent_metadata[name] = action.to_metadata()
    return to_rasa_document(data, header=header)


async def _last_import(session: AsyncSession) -> str | None:
    entry = await session.scalar(
        select(AuditEntry)
        .where(AuditEntry.action.in_(SEEDED))
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    return str(entry.detail.get("fingerprint")) if entry is not None else None


async def import_files(
    session: AsyncSession,
    topics: Path | None,
    *,
    actor: str,
    platform: str,
    at: datetime,
    seeding: bool = False,
) -> tuple[int, int]:
    """Take the files' intents in: intents the database lacks are created (with the files'
    actions), examples it lacks are added; nothing in the database is removed. Returns (new
    intents, new examples)."""
    files = file_data(topics)
    if files is None:
        return 0, 0
    new_intents = new_examples = 0
    for name, examples in files.intents.items():
        if name in catalog.builtin_intents():
            logger.warning(
                "%s: %r is a built-in intent; its examples there are ignored", topics, name
            )
            continue
        record = await catalog.find_intent(session, name)
        if record is None:
            action = _action_in(files.intent_metadata.get(name), f"{topics}: {name}")
            session.add(
                IntentRecord(
                    name=name,
                    action=action.to_data() if action else {},
                    created_at=at,
                    created_by=actor,
                )
            )
            await session.flush()
            new_intents += 1
        elif record.retired_at is not None:
            continue  # retired on purpose: the files do not bring it back
        texts = [marked_up(e) for e in examples]
        added = await catalog.add(session, name, texts, actor=actor, platform=platform, at=at)
        new_examples += len(added.added)
    record_change(
        session,
        at=at,
        actor=actor,
        platform=platform,
        action="intents.seed" if seeding else "intents.import",
        target=str(topics),
        detail={
            "fingerprint": files.fingerprint(),
            "intents": new_intents,
            "examples": new_examples,
        },
    )
    return new_intents, new_examples


def _action_in(metadata: Any, where: str) -> IntentAction | None:
    try:
        return from_metadata(metadata, where=where)
    except UserFacingError as exc:
        raise ConfigError(exc.safe_message) from exc


async def seed_if_empty(session: AsyncSession, topics: Path | None, *, at: datetime) -> bool:
    """On a desk's first start, load the files into the empty database. True if it did.
    Processes starting at once take turns under a set-up lock (its first statement: give it a
    session with no transaction begun) held until the caller commits."""
    await lock_for_setup(session, "intents-seed")
    if await session.scalar(select(IntentRecord.name).limit(1)) is not None:
        return False
    if await _last_import(session) is not None:
        return False  # seeded before, and every intent since retired or removed
    await import_files(session, topics, actor="helpdesk", platform="files", at=at, seeding=True)
    return True


async def files_changed(session: AsyncSession, topics: Path | None) -> bool:
    """Whether the files changed since they were last loaded into the database."""
    files = file_data(topics)
    last = await _last_import(session)
    if files is None or last is None:
        return False
    return files.fingerprint() != last


async def warn_if_files_changed(session: AsyncSession, topics: Path | None) -> bool:
    if not await files_changed(session, topics):
        return False
    logger.warning(
        "%s changed since it was loaded into the database, which is the source of truth for "
        "intents: `helpdesk intent import` takes the files' new intents and examples in, "
        "`helpdesk nlu export --out FILE` writes the database's intents out",
        topics,
    )
    return True
