"""The model and the knowledge base: the encoder export the serving process loads, the intent
model trained on the current data, the articles in the database and the search index built
from them. Only files and rows are read: no model is loaded, torch is not imported."""

from __future__ import annotations

import importlib.util

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli.doctor.findings import Finding, fail, ok, skip, warn
from bot.config import Settings

AREA = "model"
FIRST_START = "(otherwise the first start does it, which takes minutes and needs torch)"


def check_encoder(settings: Settings) -> tuple[list[Finding], str]:
    """The encoder's findings and the model name the intent model and index must match."""
    from nlu.embedding import DEFAULT_MODEL_NAME
    from nlu.onnx_encoder import OnnxEmbedder, matches_source

    directory = settings.encoder_dir
    if settings.encoder == "torch":
        if importlib.util.find_spec("torch") is None:
            return [
                fail(
                    AREA,
                    "encoder",
                    "HELPDESK_ENCODER=torch but torch is not installed",
                    "install torch, or unset HELPDESK_ENCODER to serve the ONNX export",
                )
            ], DEFAULT_MODEL_NAME
        return [ok(AREA, "encoder", "torch (sentence-transformers)")], DEFAULT_MODEL_NAME
    if importlib.util.find_spec("onnxruntime") is None:
        return [
            fail(
                AREA,
                "encoder",
                "onnxruntime is not installed, so the encoder needs torch at every start",
                "install onnxruntime (a dependency of the project: reinstall it)",
            )
        ], DEFAULT_MODEL_NAME
    if matches_source(directory):
        name = OnnxEmbedder(directory).model_name
        return [ok(AREA, "encoder", f"ONNX export of {name} in {directory}")], name
    return [
        fail(
            AREA,
            "encoder",
            f"no ONNX export of the encoder in {directory} (or one made from another model)",
            "start the help desk once where torch is installed (`helpdesk run`); it exports "
            "the encoder there, and every later start serves it without torch",
        )
    ], DEFAULT_MODEL_NAME


async def check_intents(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], model_name: str
) -> list[Finding]:
    """The intent model the desk serves: the newest one stored in the database, trained on the
    database's intents (their source of truth once seeded) with this encoder. Before the first
    start has seeded them, the files' model is checked instead (the start seeds from them)."""
    from sqlalchemy import func, select

    from bot.intents import store
    from bot.intents.sources import files_changed, training_data
    from bot.storage.models import IntentRecord
    from nlu.errors import NluError

    topics = settings.topic_nlu_data if settings.nlu_sources[1:] else None
    try:
        async with sessions() as session:
            if not await session.scalar(select(func.count()).select_from(IntentRecord)):
                return [check_intent_model(settings, model_name)]
            newest = await store.latest(session)
            fingerprint = (await training_data(session, topics)).fingerprint()
            changed = await files_changed(session, topics)
    except NluError as exc:
        return [fail(AREA, "intent data", f"{topics}: {exc}", "fix the training data")]
    findings: list[Finding] = []
    if newest is None:
        findings.append(
            warn(
                AREA,
                "intent model",
                "no intent model is stored in the database yet",
                "start the desk: it trains one before it takes messages (minutes)",
            )
        )
    elif (newest.data_hash, newest.model_name) != (fingerprint, model_name):
        findings.append(
            warn(
                AREA,
                "intent model",
                "the stored intent model was trained on other intents or another encoder",
                "start the desk: it retrains before it takes messages (an admin's change in "
                "chat retrains at once)",
            )
        )
    else:
        findings.append(
            ok(
                AREA,
                "intent model",
                f"trained on the database's current intents "
                f"({newest.trained_at:%Y-%m-%d %H:%M} UTC), stored there for every process",
            )
        )
    if changed:
        findings.append(
            warn(
                AREA,
                "intent data",
                f"{topics} changed since it was loaded into the database, the intents' source "
                "of truth: the desk does not train on the files' changes",
                "`helpdesk intent import` takes the files' new intents and examples in",
            )
        )
    return findings


def check_intent_model(settings: Settings, model_name: str) -> Finding:
    """The files' model (``helpdesk nlu train``), before the database holds the intents."""
    from nlu.errors import NluError
    from nlu.model import read_model_document
    from nlu.train import is_current

    try:
        read_model_document(settings.model_dir)
    except NluError as exc:
        return fail(AREA, "intent model", str(exc), f"run `helpdesk nlu train` {FIRST_START}")
    try:
        current = is_current(settings.nlu_sources, settings.model_dir, model_name=model_name)
    except NluError as exc:
        return fail(
            AREA,
            "intent data",
            f"{settings.topic_nlu_data}: {exc}",
            "fix the training data (HELPDESK_NLU_DATA points at it)",
        )
    if not current:
        return warn(
            AREA,
            "intent model",
            f"{settings.model_dir} was trained on other data or another encoder",
            f"run `helpdesk nlu train` {FIRST_START}",
        )
    return ok(AREA, "intent model", f"trained on the current data, in {settings.model_dir}")


async def check_knowledge(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], model_name: str
) -> list[Finding]:
    from bot.knowledge.index import is_current, read_manifest
    from bot.knowledge.service import load_entries

    async with sessions() as session:
        entries = await load_entries(session)
    slugs = {entry.slug for entry in entries}
    if not slugs:
        return [
            fail(
                AREA,
                "articles",
                "no article in the database: the bot can answer nothing",
                f"run `helpdesk kb import` (articles from {settings.articles_dir}) {FIRST_START}",
            ),
            skip(AREA, "index", "no articles to index"),
        ]
    found = [ok(AREA, "articles", f"{len(slugs)} articles loaded")]
    if read_manifest(settings.index_dir) is None:
        found.append(
            fail(
                AREA,
                "index",
                f"no search index in {settings.index_dir}",
                f"run `helpdesk kb reindex` {FIRST_START}",
            )
        )
    elif not is_current(settings.index_dir, entries, model_name):
        found.append(
            warn(
                AREA,
                "index",
                f"the search index in {settings.index_dir} was built from other articles or "
                "another encoder",
                f"run `helpdesk kb reindex` {FIRST_START}",
            )
        )
    else:
        found.append(ok(AREA, "index", f"{len(entries)} entries, current"))
    return found
