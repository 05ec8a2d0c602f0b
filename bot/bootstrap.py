"""The composition root: builds the running help desk from ``Settings``. The only module that
names concrete classes; everything else receives its collaborators."""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import Clock, SystemClock
from bot.commands import Role
from bot.config import DeskConfig, Settings, load_desk_config
from bot.delivery import OutboxSender
from bot.dialogs import replies
from bot.dialogs.desk import AgentDesk
from bot.dialogs.engine import DialogEngine
from bot.dialogs.intake import Intake
from bot.dialogs.roles import RoleBook
from bot.dialogs.sla_notices import apply_sla_events, run_sla_check
from bot.dialogs.threads import follow, follows_thread, in_shared_thread
from bot.dialogs.understanding import EmbeddingUnderstander, LoadingUnderstander, Understander
from bot.dialogs.wording import load_wording, use_wording
from bot.escalation.routing import agent_channels
from bot.events import Event
from bot.logs import log_case_events
from bot.messages import (
    AdapterNotices,
    AgentGate,
    Channel,
    ChannelRef,
    CompletesInbounds,
    FollowsThreads,
    GatesAgentActions,
    Inbound,
    KeepsSessionLog,
    SaysNotices,
)
from bot.metrics import count_case_events
from bot.readiness import Readiness, readiness
from bot.reports.gaps import Encoder
from bot.reports.scrape import Scrape, scrape
from bot.storage.content import ARTICLES, INTENTS, CatchUp, catching_up
from bot.storage.db import create_engine, pool_for, session_factory
from bot.storage.uow import UnitOfWork, UnitOfWorkFactory
from bot.storage.web_chat_log import DatabaseSessionLog

if TYPE_CHECKING:
    import numpy as np

    from bot.adapters.rasa import RasaChannel
    from bot.intents.live import LiveIntents
    from bot.knowledge.live import LiveKnowledge
    from bot.knowledge.search import KnowledgeSearch
    from bot.reports.scheduler import DeskScheduler
    from nlu.embedding import Embedder
    from nlu.model import NluModel
    from nlu.rasa_http import RasaParser

logger = logging.getLogger(__name__)

# progress(label, done, total)
Progress = Callable[[str, int, int], None]


@dataclass
class HelpDesk:
    settings: Settings
    desk: DeskConfig
    clock: Clock
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    intake: Intake
    sender: OutboxSender
    channels: Mapping[str, Channel]
    # the live intent model (None when the understander was given ready-made)
    intents: LiveIntents | None = None
    encoder: Encoder | None = None  # the bot's sentence encoder, when it loaded one
    loading: LoadingUnderstander | None = None  # the models, while they load in the background

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, self.clock)

    def live_intents(self) -> LiveIntents | None:
        """The live intent model (None while a background load has not brought it yet)."""
        return self.intents

    async def follows_thread(self, where: ChannelRef) -> bool:
        return await follows_thread(self.sessions, where)

    def readiness(self) -> Readiness:
        """What ``/readyz`` runs: database, migrations, outbox and adapters checked."""
        return readiness(self.sessions, self.channels, self.clock)

    def metrics(self) -> Scrape:
        """What ``/metrics`` runs: this process's counters plus the database-wide gauges."""
        return scrape(self.sessions, self.clock)

    async def close(self) -> None:
        if self.loading is not None:
            self.loading.cancel()
        self.intake.stop()
        self.sender.stop()
        if self.intents is not None:
            await self.intents.close()
        await self.engine.dispose()


async def prepare_database(settings: Settings) -> None:
    from bot.storage.migrate import upgrade_database

    await upgrade_database(settings.effective_database_url)


async def build_understander(
    settings: Settings,
    desk: DeskConfig,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    progress: Progress | None = None,
) -> Understander:
    """Load (training / indexing first if anything changed) the NLU model and the knowledge
    index on one shared, cached encoder."""
    understander, _ = await build_live_understander(settings, desk, sessions, clock, progress)
    return understander


def live_intents(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    encoder: Embedder,
    clock: Clock,
) -> LiveIntents:
    """The intent model this process serves, from the database (seeded from
    ``<data dir>/nlu``), with this process's caches under ``<data dir>/models/nlu``."""
    from bot.intents.live import LiveIntents

    topics = settings.topic_nlu_data if settings.nlu_sources[1:] else None
    return LiveIntents(
        sessions=sessions, encoder=encoder, model_dir=settings.model_dir, topics=topics, clock=clock
    )


def understander_for(
    settings: Settings,
    desk: DeskConfig,
    *,
    encoder: Embedder,
    intents: LiveIntents,
    searcher: KnowledgeSearch | LiveKnowledge,
    sessions: async_sessionmaker[AsyncSession],
    articles_catch_up: CatchUp | None = None,
) -> EmbeddingUnderstander:
    """The understander that serves ``intents`` and their actions, beside knowledge search, on
    one encoder. Before each message one read of the content versions brings the intent model
    and (``articles_catch_up``: the live knowledge base) the articles up to what an admin
    changed in any process."""
    parts: dict[str, CatchUp] = {INTENTS: intents.refresh}
    if articles_catch_up is not None:
        parts[ARTICLES] = articles_catch_up
    return EmbeddingUnderstander(
        encoder=encoder,
        parser=_intent_parser(settings, intents),
        searcher=searcher,
        supported_languages=desk.supported_languages,
        answer_threshold=desk.answer_threshold,
        article_url=desk.help_center_url,
        actions=intents.action_for,
        catch_up=catching_up(sessions, parts),
        language_cache=settings.data_dir / "models",
    )


async def build_live_understander(
    settings: Settings,
    desk: DeskConfig,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    progress: Progress | None = None,
) -> tuple[Understander, LiveIntents]:
    """``build_understander``, and the live intent model it serves."""
    from nlu.embedding import CachingEmbedder
    from nlu.encoder_choice import select_embedder

    encoder_progress = (
        (lambda label, done, total: progress(f"encoder: {label}", done, total))
        if progress
        else None
    )
    chosen = await asyncio.to_thread(
        select_embedder, settings.encoder_dir, settings.encoder, encoder_progress
    )
    # the encoder's runtime builds its session, and the language identifier reads its file,
    # mostly without holding the interpreter: both load in a thread of their own while the
    # intent model and the index load here (about 0.5 s of a start)
    encoder_loaded = asyncio.ensure_future(
        asyncio.to_thread(_load_encoder_and_language, chosen, settings.data_dir / "models")
    )
    encoder = CachingEmbedder(chosen)
    if progress:
        progress("intent model", 0, 1)
    kb_progress = (lambda done, total, label: progress(label, done, total)) if progress else None
    intents = live_intents(settings, sessions, encoder, clock)
    await intents.start()
    if progress:
        progress("intent model", 1, 1)
    knowledge = await _live_knowledge(settings, sessions, clock, encoder, kb_progress)
    understander = understander_for(
        settings,
        desk,
        encoder=encoder,
        intents=intents,
        searcher=knowledge,
        sessions=sessions,
        articles_catch_up=knowledge.catch_up,
    )
    # the encoder and the language identifier load on first use; let that be here, not in the
    # first customer's wait
    if progress:
        progress("getting ready", 0, 1)
    await encoder_loaded  # its error, if any, is the load's
    await asyncio.to_thread(understander.warm_up)
    if progress:
        progress("getting ready", 1, 1)
    return understander, intents


def _load_encoder_and_language(encoder: Embedder, language_cache: Path) -> None:
    from nlu import language
    from nlu.embedding import LoadsOnFirstUse

    if isinstance(encoder, LoadsOnFirstUse):
        encoder.load()
    language.load(language_cache)


async def _live_knowledge(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    encoder: Embedder,
    progress: Callable[[int, int, str], None] | None = None,
) -> LiveKnowledge:
    """The knowledge base set up and kept live: it catches up with admins' changes."""
    from bot.knowledge.live import live_knowledge
    from bot.knowledge.search import configured_fusion

    return await live_knowledge(
        sessions,
        encoder,
        articles_dir=settings.articles_dir,
        index_dir=settings.index_dir,
        clock=clock,
        fusion=configured_fusion(settings),
        progress=progress,
        flat_below=settings.index_flat_below,
    )


async def knowledge_understander(
    settings: Settings,
    desk: DeskConfig,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    *,
    encoder: Embedder,
    model: NluModel,
    progress: Callable[[int, int, str], None] | None = None,
) -> Understander:
    """The understander over a loaded encoder and a fixed intent model, with the knowledge
    base set up and kept live: it catches up with admins' changes before each message."""
    knowledge = await _live_knowledge(settings, sessions, clock, encoder, progress)
    return EmbeddingUnderstander(
        encoder=encoder,
        parser=model,
        searcher=knowledge,
        supported_languages=desk.supported_languages,
        answer_threshold=desk.answer_threshold,
        article_url=desk.help_center_url,
        catch_up=catching_up(sessions, {ARTICLES: knowledge.catch_up}),
        language_cache=settings.data_dir / "models",
    )


def _intent_parser(settings: Settings, model: LiveIntents) -> LiveIntents | RasaParser:
    """The built-in model, or a Rasa server in front of it with ``NLU_BACKEND=rasa``."""
    if settings.nlu_backend != "rasa":
        return model
    if not settings.rasa_url:
        logger.warning("NLU_BACKEND=rasa but RASA_URL is not set; using the built-in classifier")
        return model
    from nlu.rasa_http import RasaParser

    return RasaParser(url=settings.rasa_url, fallback=model)


async def build_helpdesk(
    settings: Settings,
    *,
    channels: Mapping[str, Channel],
    understander: Understander | None = None,
    encoder: Encoder | None = None,
    clock: Clock | None = None,
    desk: DeskConfig | None = None,
    progress: Progress | None = None,
    intents: LiveIntents | None = None,
    load_in_background: bool = False,
) -> HelpDesk:
    """The help desk. Without ``understander`` the real one is built (the live intent model,
    the knowledge index); a given one may come with its live ``intents``, to be retrained
    after an admin's change. ``load_in_background``: return before the encoder and models are
    loaded; the load runs as a task meanwhile (``HelpDesk.loading``) and a message that comes
    first waits for it."""
    clock = clock or SystemClock()
    desk = desk or load_desk_config(settings.desk_config_file)
    # the business's voice, checked before anything starts (a bad replies.yml names its key)
    use_wording(load_wording(settings.replies_file, desk.business))
    await prepare_database(settings)
    engine = create_engine(
        settings.effective_database_url, **pool_for(settings.concurrent_conversations)
    )
    sessions = session_factory(engine)
    background: _BackgroundLoad | None = None
    if understander is None and load_in_background:
        background = _BackgroundLoad(
            asyncio.create_task(build_live_understander(settings, desk, sessions, clock, progress))
        )
        understander = background.understander
        encoder = encoder or background.encoder()
    elif understander is None:
        understander, intents = await build_live_understander(
            settings, desk, sessions, clock, progress
        )
    if encoder is None and isinstance(understander, EmbeddingUnderstander):
        encoder = understander.encoder  # the knowledge gaps group by the bot's own encoder
    sender = OutboxSender(sessions=sessions, channels=channels, clock=clock)
    uow_factory = _uow_factory(
        sessions, clock, sender, desk, background.intents if background else lambda: intents
    )
    roles = RoleBook(desk.roles)
    for channel in channels.values():
        if isinstance(channel, GatesAgentActions):
            channel.use_agent_gate(agent_gate(roles))
        if isinstance(channel, SaysNotices):
            channel.use_notices(AdapterNotices(thread_unavailable=replies.THREAD_UNAVAILABLE))
        if isinstance(channel, KeepsSessionLog):
            channel.use_session_log(DatabaseSessionLog(sessions=sessions, clock=clock))
    intake = Intake(
        sessions=sessions,
        uow_factory=uow_factory,
        engine=DialogEngine(
            uow_factory=uow_factory, understander=understander, desk=desk, clock=clock
        ),
        desk=AgentDesk(
            uow_factory=uow_factory, desk=desk, roles=roles, clock=clock, encoder=encoder
        ),
        agent_channels=agent_channels(desk) | _managers_channels(desk),
        clock=clock,
        lease=timedelta(seconds=settings.inbox_lease_seconds),
        concurrency=settings.concurrent_conversations,
        completers={
            platform: channel.complete
            for platform, channel in channels.items()
            if isinstance(channel, CompletesInbounds)
        },
    )
    helpdesk = HelpDesk(
        settings=settings,
        desk=desk,
        clock=clock,
        engine=engine,
        sessions=sessions,
        intake=intake,
        sender=sender,
        channels=channels,
        intents=intents,
        encoder=encoder,
        loading=background.understander if background else None,
    )
    if background is not None:  # the live intents arrive with the load
        background.when_loaded(lambda live: setattr(helpdesk, "intents", live))
    return helpdesk


def agent_gate(roles: RoleBook) -> AgentGate:
    """May this person use agent actions? What adapters ask before opening an agent form —
    the article form (``kb``) is for admins."""

    def is_agent(inbound: Inbound) -> bool:
        groups = frozenset(inbound.groups)
        role = Role.ADMIN if inbound.action == "kb" else Role.AGENT
        return roles.has(role, inbound.platform, inbound.user_id, groups)

    return is_agent


def _managers_channels(desk: DeskConfig) -> set[str]:
    """The managers' channel is served by the agent desk too (``stats``)."""
    if not desk.managers_channel:
        return set()
    return {str(ChannelRef.parse(desk.managers_channel).without_thread)}


def build_channels(settings: Settings, *, listen: bool) -> dict[str, Channel]:
    """The platform adapters whose credentials are configured. ``listen`` is False in processes
    that only send (the web process receives over HTTP instead of holding connections)."""
    channels: dict[str, Channel] = {}
    for builder in _CHANNEL_BUILDERS:
        channel = builder(settings, listen)
        if channel is not None:
            channels[channel.platform] = channel
    return channels


ChannelBuilder = Callable[[Settings, bool], Channel | None]


def _lazy_builder(module: str) -> ChannelBuilder:
    """The ``build(settings, listen)`` of an adapter module, imported only when called: a
    platform SDK costs import time even where that platform is not configured."""

    def build(settings: Settings, listen: bool) -> Channel | None:
        builder: ChannelBuilder = importlib.import_module(module).build
        return builder(settings, listen)

    return build


# Each platform's builder returns its adapter, or None when its credentials are not set.
_CHANNEL_BUILDERS: list[ChannelBuilder] = [
    _lazy_builder("bot.adapters.telegram"),
    _lazy_builder("bot.adapters.slack"),
    _lazy_builder("bot.adapters.discord"),
    _lazy_builder("bot.adapters.rasa"),
    _lazy_builder("bot.adapters.web"),
]


def build_rasa_channel(settings: Settings) -> RasaChannel:
    """The Rasa adapter for ``helpdesk actions``, built even without ``RASA_URL``."""
    from bot.adapters.rasa import build_always

    return build_always(settings)


async def start_channels(helpdesk: HelpDesk) -> None:
    """Connect every adapter; inbounds are stored, acknowledged, then processed in the
    background."""
    for channel in helpdesk.channels.values():
        give_lookups(helpdesk, channel)
        await channel.start(_accepting(helpdesk))


def give_lookups(helpdesk: HelpDesk, channel: Channel) -> None:
    """What an adapter may ask the help desk as events arrive (answered from the database)."""
    if isinstance(channel, FollowsThreads):
        channel.follow_threads_with(helpdesk.follows_thread)


def _accepting(helpdesk: HelpDesk) -> Callable[[Inbound], Awaitable[None]]:
    desk_channels = agent_channels(helpdesk.desk) | _managers_channels(helpdesk.desk)

    async def on_inbound(inbound: Inbound) -> None:
        if in_shared_thread(inbound, desk_channels):  # followed before its answer is written
            await follow(helpdesk.sessions, inbound.channel, helpdesk.clock.now())
        await helpdesk.intake.accept(inbound)

    return on_inbound


def _uow_factory(
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    sender: OutboxSender,
    desk: DeskConfig,
    intents: Callable[[], LiveIntents | None] = lambda: None,
) -> UnitOfWorkFactory:
    """A unit of work per message or job: SLA event handlers run before each commit, and the
    outbox sender delivers what it queued right after it (and, after a change to the intents'
    examples, the live intent model ``intents()`` — when there is one — retrains in the
    background)."""

    def factory() -> UnitOfWork:
        uow = UnitOfWork(sessions, clock)
        uow.before_commit(lambda u: apply_sla_events(u, desk))
        uow.after_commit(lambda: sender.deliver(uow.queued))
        uow.after_commit(lambda: _committed(uow.events))
        uow.after_commit(lambda: _retrain_if_wanted(uow, intents()))
        return uow

    return factory


def _retrain_if_wanted(uow: UnitOfWork, intents: LiveIntents | None) -> None:
    from bot.intents.catalog import retraining_wanted

    if intents is not None and retraining_wanted(uow.session):
        intents.retrain()


def _committed(events: list[Event]) -> None:
    """A transaction's case events, once committed: counted and logged."""
    count_case_events(events)
    log_case_events(events)


class _BackgroundLoad:
    """The understander and live intents loading as a task (``helpdesk chat`` shows its prompt
    meanwhile), and what they bring once it is done."""

    def __init__(self, task: asyncio.Task[tuple[Understander, LiveIntents]]) -> None:
        self._task = task
        self.understander = LoadingUnderstander(asyncio.ensure_future(self._understander()))
        self._loop = asyncio.get_running_loop()

    async def _understander(self) -> Understander:
        understander, _ = await self._task
        return understander

    def intents(self) -> LiveIntents | None:
        if self._task.done() and not self._task.cancelled() and not self._task.exception():
            return self._task.result()[1]
        return None

    def when_loaded(self, use: Callable[[LiveIntents], object]) -> None:
        self._task.add_done_callback(lambda _: (live := self.intents()) and use(live))

    def encoder(self) -> Encoder:
        return _EncoderOnceLoaded(self.understander, self._loop)


class _EncoderOnceLoaded:
    """The background-loaded understander's encoder. ``encode`` is called in a worker thread
    (the gap review encodes off the event loop), which waits there for the load to finish."""

    def __init__(self, loading: LoadingUnderstander, loop: asyncio.AbstractEventLoop) -> None:
        self._loading = loading
        self._loop = loop

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        ready = asyncio.run_coroutine_threadsafe(self._loading.ready(), self._loop).result()
        assert isinstance(ready, EmbeddingUnderstander)
        return ready.encoder.encode(texts)


def job_uow_factory(helpdesk: HelpDesk) -> UnitOfWorkFactory:
    """Units of work for scheduled jobs, wired like the ones for messages."""
    return _uow_factory(
        helpdesk.sessions, helpdesk.clock, helpdesk.sender, helpdesk.desk, helpdesk.live_intents
    )


async def run_scheduler(helpdesk: HelpDesk) -> None:
    """Run the scheduled jobs (SLA checks, digests) until cancelled. Each process keeps its own
    in-memory schedule; a run acts only after claiming its ``(job, period)`` row, so several
    scheduler processes never post the same digest twice."""
    import asyncio

    scheduler = await start_scheduler(helpdesk)
    try:
        await asyncio.Event().wait()
    finally:
        scheduler.shutdown()


async def start_scheduler(helpdesk: HelpDesk, *, digests: bool = True) -> DeskScheduler:
    """Catch up on digests missed while no scheduler ran, then start the schedule. Without
    ``digests`` (``helpdesk chat``) only the SLA check and desk upkeep run, the first pass at
    once."""
    import os
    import socket

    from bot.escalation.sla_clock import CaseSlaClock
    from bot.reports.scheduler import DeskScheduler

    uow_factory = job_uow_factory(helpdesk)
    scheduler = DeskScheduler(
        desk=helpdesk.desk,
        uow_factory=uow_factory,
        clock=helpdesk.clock,
        owner=f"{socket.gethostname()}:{os.getpid()}",
        chart_dir=_chart_dir(helpdesk),
        sla_clock=CaseSlaClock.of(helpdesk.desk),
        sla_check=lambda: _every_minute(helpdesk, uow_factory),
        digests=digests,
        retention=_retention_job(helpdesk, uow_factory),
        gaps_encoder=helpdesk.encoder,
    )
    await scheduler.catch_up()
    if not digests:
        await scheduler.sla_check()
    scheduler.start()
    return scheduler


def _retention_job(
    helpdesk: HelpDesk, uow_factory: UnitOfWorkFactory
) -> Callable[[], Awaitable[object]] | None:
    """The daily retention run, when helpdesk.yml sets a retention policy."""
    from bot.cases.retention import run_retention

    policy = helpdesk.desk.retention
    if all(limit is None for limit in policy.model_dump().values()):
        return None  # keep everything: nothing to run
    return lambda: run_retention(uow_factory, policy)


async def _every_minute(helpdesk: HelpDesk, uow_factory: UnitOfWorkFactory) -> None:
    """The SLA ladder, then desk upkeep (idle claims released, old resolved cases closed,
    unconfirmed identity links cancelled)."""
    from bot.dialogs.upkeep import DeskUpkeep

    await run_sla_check(uow_factory, helpdesk.desk)
    upkeep = DeskUpkeep(desk=helpdesk.desk)
    async with uow_factory() as uow:
        now = uow.clock.now()
        await upkeep.release_stale_claims(uow, now, upkeep.claim_idle)
        await upkeep.close_resolved_cases(uow, now, upkeep.reopen_window)
        await upkeep.expire_link_requests(uow)
        await uow.commit()


def _chart_dir(helpdesk: HelpDesk) -> Path:
    configured = helpdesk.desk.digests.chart_dir
    return Path(configured) if configured else helpdesk.settings.data_dir / "digests"
