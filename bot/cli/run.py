"""``helpdesk run``: the long-running processes of a deployment (see the Procfile).

- ``worker``: the adapters that hold connections (Slack Socket Mode, Telegram polling, the
  Discord gateway) and the outbox sender;
- ``web``: one ASGI app on ``$PORT`` for Slack's HTTP events and the Telegram webhook, plus
  the outbox sender;
- ``scheduler``: scheduled jobs (SLA checks, digests);
- ``all`` (default): everything in one process.

``web`` and ``all`` serve ``/metrics`` with the rest of the web app; ``worker`` and
``scheduler`` serve it (with ``/healthz`` and ``/readyz``) on ``HELPDESK_METRICS_PORT`` when set.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import signal
from collections.abc import Awaitable
from typing import Annotated, TypeVar

import typer

logger = logging.getLogger(__name__)

T = TypeVar("T")


class ProcessRole(enum.StrEnum):
    ALL = "all"
    WEB = "web"
    WORKER = "worker"
    SCHEDULER = "scheduler"


def run(
    role: Annotated[ProcessRole, typer.Option(help="Which process to run.")] = ProcessRole.ALL,
) -> None:
    """Run the help desk's platform adapters, web endpoints, outbox sender and scheduler."""
    from bot.config import Settings
    from bot.logs import configure

    settings = Settings()
    configure(settings.log_level, settings.log_format, settings.secret_values())
    failed = False
    with contextlib.suppress(KeyboardInterrupt):
        failed = asyncio.run(_run(settings, role))
    if failed:  # a supervisor (systemd, the platform) sees it and restarts or alerts
        raise typer.Exit(1)


async def _run(settings: object, role: ProcessRole) -> bool:
    """Run until a signal (returns False) or until a part dies (returns True)."""
    from bot.bootstrap import build_channels, build_helpdesk
    from bot.cli.database import ready_database
    from bot.config import Settings, load_desk_config

    assert isinstance(settings, Settings)
    stop = _stop_on_signals()  # first: a SIGTERM during start-up must stop it, not be ignored
    desk = load_desk_config(settings.desk_config_file)
    await ready_database(settings.effective_database_url)
    listen = role in (ProcessRole.ALL, ProcessRole.WORKER)
    channels = build_channels(settings, listen=listen)
    # Rasa conversations arrive at ``helpdesk actions``; here they only receive later replies
    if not set(channels) - {"rasa"} and needs_a_platform(role):
        typer.echo(
            "No platform is configured: set SLACK_BOT_TOKEN, TELEGRAM_TOKEN or DISCORD_TOKEN "
            "(see the README), or try `helpdesk chat`.",
            err=True,
        )
        raise typer.Exit(2)
    helpdesk = await _unless_stopped(build_helpdesk(settings, channels=channels, desk=desk), stop)
    if helpdesk is None:
        logger.info("stopped during start-up")
        return False
    return await serve(helpdesk, role, stop)


def needs_a_platform(role: ProcessRole) -> bool:
    """A worker (or ``all``) without a platform would hold no connection and receive nothing:
    almost certainly a missing token, worth refusing in a sentence. The web and scheduler
    roles do useful work without one (health and readiness endpoints, the outbox sender,
    scheduled jobs), so they start and say what they serve."""
    return role in (ProcessRole.ALL, ProcessRole.WORKER)


async def serve(helpdesk: object, role: ProcessRole, stop: asyncio.Event) -> bool:
    """Run a built help desk until ``stop`` is set, then stop it cleanly (False), or until a
    part dies (True). Inbounds stored before a crash are recovered before any adapter takes
    new traffic."""
    from bot.bootstrap import HelpDesk, start_channels
    from bot.messages import HoldsConnection

    assert isinstance(helpdesk, HelpDesk)
    tasks: list[asyncio.Task[None]] = []
    web: asyncio.Task[None] | None = None
    failed = False
    try:
        if await _unless_stopped(helpdesk.intake.recover(), stop) is None:
            return False
        tasks.append(asyncio.create_task(helpdesk.intake.run()))
        tasks.append(asyncio.create_task(helpdesk.sender.run()))
        if await _unless_stopped(_started(start_channels(helpdesk)), stop) is None:
            return False
        for channel in helpdesk.channels.values():  # a connection lost for good ends the process
            if isinstance(channel, HoldsConnection):
                tasks.append(asyncio.create_task(channel.wait_lost()))
        if role in (ProcessRole.ALL, ProcessRole.WEB):
            web = asyncio.create_task(_serve_web(helpdesk, stop))
            tasks.append(web)
        elif helpdesk.settings.metrics_port:  # this process's own counters, health, readiness
            web = asyncio.create_task(
                _serve_web(helpdesk, stop, port=helpdesk.settings.metrics_port, adapters=False)
            )
            tasks.append(web)
        if role in (ProcessRole.ALL, ProcessRole.SCHEDULER):
            from bot.bootstrap import run_scheduler

            tasks.append(asyncio.create_task(run_scheduler(helpdesk)))
        channels = ", ".join(helpdesk.channels) or "no adapters"
        logger.info("running as %s with %s", role.value, channels)
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
        for task in done:  # a part that died takes the process down, loudly
            if task is not stopper and not task.cancelled() and task.exception():
                failed = True
                logger.error("stopping: %s failed", task.get_coro(), exc_info=task.exception())
        stopper.cancel()
    finally:
        stop.set()  # the web server leaves on its own (a cancelled uvicorn logs a traceback)
        helpdesk.intake.stop()
        for channel in helpdesk.channels.values():  # no new traffic while we finish
            with contextlib.suppress(Exception):
                await channel.stop()
        await helpdesk.intake.wait_idle()
        if web is not None:
            await asyncio.gather(web, return_exceptions=True)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await helpdesk.close()
    logger.info("stopped")
    return failed


async def _started(starting: Awaitable[None]) -> bool:
    await starting
    return True


async def _unless_stopped(work: Awaitable[T], stop: asyncio.Event) -> T | None:
    """``work``'s result, or None when ``stop`` was set first (``work`` is then cancelled)."""
    task = asyncio.ensure_future(work)
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait([task, stopper], return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    if task.done():
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return None


def _stop_on_signals() -> asyncio.Event:
    """SIGTERM (a platform's restart) or SIGINT: finish what is in hand, then stop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop


async def _serve_web(
    helpdesk: object, stop: asyncio.Event, *, port: int | None = None, adapters: bool = True
) -> None:
    """Serve the web app until ``stop``: uvicorn is asked to exit (``should_exit``), never
    cancelled, so its lifespan ends cleanly. ``adapters=False``: health, readiness and metrics
    only (``HELPDESK_METRICS_PORT`` of a worker or scheduler)."""
    import uvicorn

    from bot.bootstrap import HelpDesk
    from bot.dashboard.app import routes_for
    from bot.web import create_web_app

    assert isinstance(helpdesk, HelpDesk)
    config = uvicorn.Config(
        create_web_app(
            helpdesk.channels,
            helpdesk.readiness(),
            helpdesk.metrics(),
            adapter_routes=adapters,
            extra_routes=routes_for(helpdesk) if adapters else (),
        ),
        host=helpdesk.settings.web_host,
        port=port or helpdesk.settings.web_port,
        log_level="warning",
        # the dashboard's event streams never end on their own: give them this long, then go
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    # uvicorn replaces the SIGTERM/SIGINT handlers while it serves; ours set ``stop``
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign, assignment]

    async def exit_on_stop() -> None:
        await stop.wait()
        server.should_exit = True

    watcher = asyncio.create_task(exit_on_stop())
    try:
        await server.serve()
    finally:
        watcher.cancel()
