"""The composition root: builds the running help desk from ``Settings``. The only module that
names concrete classes; everything else receives its collaborators."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import Clock, SystemClock
from bot.config import DeskConfig, Settings, load_desk_config
from bot.delivery import OutboxSender
from bot.dialogs.desk import AgentDesk
from bot.dialogs.engine import DialogEngine
from bot.dialogs.intake import Intake
from bot.dialogs.roles import RoleBook
from bot.dialogs.understanding import EmbeddingUnderstander, Understander
from bot.escalation.routing import agent_channels
from bot.messages import Channel, Inbound
from bot.storage.db import create_engine, session_factory
from bot.storage.uow import UnitOfWork

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

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, self.clock)

    async def close(self) -> None:
        self.sender.stop()
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
    import asyncio

    from bot.knowledge.search import KnowledgeSearch
    from bot.knowledge.service import ensure_ready
    from nlu.embedding import CachingEmbedder, SentenceTransformerEmbedder
    from nlu.train import load_or_train

    encoder = CachingEmbedder(SentenceTransformerEmbedder())
    nlu_progress = progress
    kb_progress = (lambda done, total, label: progress(label, done, total)) if progress else None
    model = await asyncio.to_thread(
        load_or_train, settings.nlu_data, settings.model_dir, encoder, nlu_progress
    )
    await ensure_ready(
        sessions,
        encoder,
        articles_dir=settings.articles_dir,
        index_dir=settings.index_dir,
        clock=clock,
        progress=kb_progress,
    )
    search = await asyncio.to_thread(KnowledgeSearch.load, settings.index_dir)
    return EmbeddingUnderstander(
        encoder=encoder,
        parser=model,
        searcher=search,
        supported_languages=desk.supported_languages,
        answer_threshold=desk.answer_threshold,
    )


async def build_helpdesk(
    settings: Settings,
    *,
    channels: Mapping[str, Channel],
    understander: Understander | None = None,
    clock: Clock | None = None,
    desk: DeskConfig | None = None,
    progress: Progress | None = None,
) -> HelpDesk:
    clock = clock or SystemClock()
    desk = desk or load_desk_config(settings.config_file)
    await prepare_database(settings)
    engine = create_engine(settings.effective_database_url)
    sessions = session_factory(engine)
    if understander is None:
        understander = await build_understander(settings, desk, sessions, clock, progress)
    sender = OutboxSender(sessions=sessions, channels=channels, clock=clock)

    def uow_factory() -> UnitOfWork:
        uow = UnitOfWork(sessions, clock)
        uow.after_commit(sender.wake)
        return uow

    roles = RoleBook(desk.roles)
    intake = Intake(
        sessions=sessions,
        uow_factory=uow_factory,
        engine=DialogEngine(
            uow_factory=uow_factory, understander=understander, desk=desk, clock=clock
        ),
        desk=AgentDesk(uow_factory=uow_factory, desk=desk, roles=roles, clock=clock),
        agent_channels=agent_channels(desk),
        clock=clock,
    )
    return HelpDesk(
        settings=settings,
        desk=desk,
        clock=clock,
        engine=engine,
        sessions=sessions,
        intake=intake,
        sender=sender,
        channels=channels,
    )


def build_channels(settings: Settings, *, listen: bool) -> dict[str, Channel]:
    """The platform adapters whose credentials are configured. ``listen`` is False in processes
    that only send (the web process receives over HTTP instead of holding connections)."""
    channels: dict[str, Channel] = {}
    for builder in _CHANNEL_BUILDERS:
        channel = builder(settings, listen)
        if channel is not None:
            channels[channel.platform] = channel
    return channels


# Each platform's builder returns its adapter, or None when its credentials are not set.
# Adapters register here as they are added (bot/adapters/<platform>.py).
_CHANNEL_BUILDERS: list[Callable[[Settings, bool], Channel | None]] = []


async def start_channels(helpdesk: HelpDesk) -> None:
    """Connect every adapter; inbounds are stored, acknowledged, then processed in the
    background."""
    for channel in helpdesk.channels.values():
        await channel.start(_accepting(helpdesk))


def _accepting(helpdesk: HelpDesk) -> Callable[[Inbound], Awaitable[None]]:
    async def on_inbound(inbound: Inbound) -> None:
        await helpdesk.intake.accept(inbound)

    return on_inbound


async def run_scheduler(helpdesk: HelpDesk) -> None:
    """Scheduled jobs (SLA checks, digests) — none are scheduled yet, so this idles."""
    import asyncio

    await asyncio.Event().wait()
