"""The intent model a process serves, kept current without a restart or a pause in answering.

``LiveIntents`` answers ``parse_vector`` with the model it holds and swaps in a new one with a
single assignment, so a message is parsed by the old model or the new, never by half of each.

* After a change to the training data commits (``catalog.retraining_wanted``), ``retrain``
  fits a new model in a worker thread — warm-started: the examples' vectors come from an
  on-disk cache (only new texts are encoded) and the solver starts from the served model —
  stores it in the database (bumping the intents version), then swaps it in. Messages keep
  being answered by the old model meanwhile. Changes made during a retrain get one more.
* ``refresh`` (before each message) compares the intents version with the one served; a process
  that is behind loads the newest stored model and the intents' actions — one primary-key read
  when nothing changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.intents import sources, store
from bot.intents.actions import IntentAction
from bot.storage.content import INTENTS, current_version
from bot.storage.models import IntentRecord
from nlu.classifier import IntentClassifier
from nlu.embedding import Embedder
from nlu.errors import ModelNotFoundError
from nlu.model import NluModel, ParseResult
from nlu.train import CACHE_FILE, Fitted, fit_model
from nlu.training_data import TrainingData
from nlu.vector_cache import VectorCache

logger = logging.getLogger(__name__)

EVALUATION_FILE = "evaluation.json"  # beside this process's cached model: its accuracy


class Fit(Protocol):
    def __call__(
        self,
        data: TrainingData,
        embedder: Embedder,
        cache: VectorCache,
        *,
        previous: IntentClassifier | None,
        evaluate: bool,
    ) -> Fitted: ...


@dataclass(frozen=True)
class Served:
    """What a process serves: the model, the stored row it came from, the intents version."""

    model: NluModel
    model_id: int
    version: int


class LiveIntents:
    """The served intent model and the intents' actions, for one process."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        encoder: Embedder,
        model_dir: Path,
        topics: Path | None,
        clock: Clock,
        fit: Fit = fit_model,
    ) -> None:
        self._sessions = sessions
        self._encoder = encoder
        self._model_dir = model_dir  # this process's cache: example vectors, the last model
        self._topics = topics
        self._clock = clock
        self._fit = fit
        self._cache: VectorCache | None = None
        self._served: Served | None = None
        self._actions: dict[str, IntentAction] = {}
        self._wanted = False
        self._task: asyncio.Task[None] | None = None
        self._evaluation: asyncio.Task[None] | None = None
        self._refreshing = asyncio.Lock()

    # --- serving --------------------------------------------------------------------------

    @property
    def model(self) -> NluModel:
        if self._served is None:
            raise RuntimeError("LiveIntents.start() has not run")
        return self._served.model

    @property
    def version(self) -> int:
        return self._served.version if self._served else 0

    def parse_vector(self, text: str, vector: Any) -> ParseResult:
        return self.model.parse_vector(text, vector)

    def action_for(self, intent: str | None) -> IntentAction | None:
        return self._actions.get(intent) if intent else None

    async def refresh(self, version: int | None = None) -> None:
        """Load the newest model and actions if another process (or this one) changed them
        (the intents' ``version`` when the caller has just read it)."""
        if version is None:
            async with self._sessions() as session:
                version = await current_version(session, INTENTS)
        if version <= self.version:
            return
        async with self._refreshing:
            if version <= self.version:
                return
            try:
                await self._load_latest()
            except LookupError:  # pruned between two reads by a newer one: the next message
                logger.info("the newest intent model changed while loading; trying again later")

    async def _load_latest(self) -> None:
        async with self._sessions() as session:
            version = await current_version(session, INTENTS)
            newest = await store.latest(session)
            actions = await _actions(session)
            blob = None
            if newest is not None and (not self._served or newest.id != self._served.model_id):
                blob = await store.blob_of(session, newest.id)
        if blob is not None and newest is not None:
            model = await asyncio.to_thread(NluModel.from_bytes, blob)
            self._served = Served(model, newest.id, version)
            logger.info("serving intent model %d (intents version %d)", newest.id, version)
        elif self._served is not None:
            self._served = Served(self._served.model, self._served.model_id, version)
        self._actions = actions

    # --- start ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Seed the database from the files on a first start, then serve the stored model if it
        was trained on the current data, else this process's cached one, else train now."""
        async with self._sessions() as session:
            await sources.seed_if_empty(session, self._topics, at=self._clock.now())
            await session.commit()
            await sources.warn_if_files_changed(session, self._topics)
        async with self._sessions() as session:
            data = await sources.training_data(session, self._topics)
            newest = await store.latest(session)
        fingerprint = data.fingerprint()
        if newest is not None and self._matches(newest.data_hash, newest.model_name, fingerprint):
            await self._load_latest()
            return
        cached = await asyncio.to_thread(self._cached_model, fingerprint)
        if cached is not None:
            await self._store(cached, await asyncio.to_thread(self._cached_evaluation, fingerprint))
            return
        await self._train(data)

    def _matches(self, data_hash: str, model_name: str, fingerprint: str) -> bool:
        return data_hash == fingerprint and model_name == self._encoder.model_name

    def _cached_evaluation(self, fingerprint: str) -> dict[str, Any]:
        try:
            record = json.loads((self._model_dir / EVALUATION_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(record, dict) or record.pop("data_hash", None) != fingerprint:
            return {}
        return record

    def _cached_model(self, fingerprint: str) -> NluModel | None:
        try:
            model = NluModel.load(self._model_dir)
        except (ModelNotFoundError, OSError, ValueError, KeyError, TypeError):
            return None
        meta = model.metadata
        return model if self._matches(meta.data_hash, meta.model_name, fingerprint) else None

    # --- retraining -----------------------------------------------------------------------

    def retrain(self) -> asyncio.Task[None]:
        """Retrain in the background (once more if one is running); the task ends when a model
        with every change so far is served."""
        self._wanted = True
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._retrain_while_wanted())
        return self._task

    async def settled(self) -> None:
        """Wait for the background retraining, if any, to finish."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def _retrain_while_wanted(self) -> None:
        while self._wanted:
            self._wanted = False
            try:
                async with self._sessions() as session:
                    data = await sources.training_data(session, self._topics)
                if self._served and data.fingerprint() == self.model.metadata.data_hash:
                    await self.refresh()  # e.g. examples added then removed: nothing to learn
                    continue
                await self._train(data)
            except Exception:  # the old model keeps answering; the next change tries again
                logger.exception("retraining the intent model failed; still serving the old one")

    async def _train(self, data: TrainingData) -> None:
        previous = self._served.model.classifier if self._served else None
        if previous is None:
            cached = await asyncio.to_thread(self._any_cached_model)
            previous = cached.classifier if cached else None
        fitted = await asyncio.to_thread(
            self._fit, data, self._encoder, self._vector_cache(), previous=previous, evaluate=False
        )
        model_id = await self._store(fitted.model, {})
        await asyncio.to_thread(fitted.model.save, self._model_dir)
        logger.info(
            "retrained the intent model: %d examples (%d newly encoded)",
            fitted.model.metadata.examples,
            fitted.encoded,
        )
        # measured after the swap: a held-out fit costs more than the retrain itself
        self._evaluation = asyncio.get_running_loop().create_task(
            self._evaluate(model_id, data, fitted.model)
        )

    async def _evaluate(self, model_id: int, data: TrainingData, model: NluModel) -> None:
        try:
            fitted = await asyncio.to_thread(
                self._fit,
                data,
                self._encoder,
                self._vector_cache(),
                previous=model.classifier,
                evaluate=True,
            )
            async with self._sessions.begin() as session:
                await store.set_evaluation(session, model_id, fitted.evaluation)
            record = {"data_hash": model.metadata.data_hash, **fitted.evaluation}
            await asyncio.to_thread(_write_json, self._model_dir / EVALUATION_FILE, record)
            logger.info("intent model %d: held-out accuracy %s", model_id, fitted.evaluation)
        except Exception:
            logger.exception("measuring the intent model's accuracy failed")

    async def evaluated(self) -> None:
        """Wait for the last model's accuracy to be measured (``intent list`` shows it)."""
        await self.settled()
        if self._evaluation is not None:
            await asyncio.shield(self._evaluation)

    async def close(self) -> None:
        """Stop background work (a fit already in its thread finishes there, unused)."""
        for task in (self._task, self._evaluation):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    def _any_cached_model(self) -> NluModel | None:
        try:
            return NluModel.load(self._model_dir)
        except (ModelNotFoundError, OSError, ValueError, KeyError, TypeError):
            return None

    def _vector_cache(self) -> VectorCache:
        if self._cache is None:
            self._cache = VectorCache(self._model_dir / CACHE_FILE, self._encoder.model_name)
        return self._cache

    async def _store(self, model: NluModel, evaluation: dict[str, Any]) -> int:
        blob = await asyncio.to_thread(model.to_bytes)
        meta = model.metadata
        async with self._sessions.begin() as session:
            model_id, version = await store.store(
                session,
                blob=blob,
                data_hash=meta.data_hash,
                model_name=meta.model_name,
                examples=meta.examples,
                evaluation=evaluation,
                at=self._clock.now(),
            )
            actions = await _actions(session)
        self._served = Served(model, model_id, version)  # the swap: one assignment
        self._actions = actions
        return model_id


def _write_json(path: Path, content: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(content), encoding="utf-8")
    tmp.replace(path)


async def _actions(session: AsyncSession) -> dict[str, IntentAction]:
    rows = await session.execute(
        select(IntentRecord.name, IntentRecord.action).where(IntentRecord.retired_at.is_(None))
    )
    found = {name: IntentAction.from_data(action) for name, action in rows.all()}
    return {name: action for name, action in found.items() if action is not None}


ActionLookup = Callable[[str | None], IntentAction | None]
