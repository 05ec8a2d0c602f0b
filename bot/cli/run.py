"""``helpdesk run``: the long-running processes of a deployment (see the Procfile).

- ``worker``: the adapters that hold connections (Slack Socket Mode, Telegram polling, the
  Discord gateway) and the outbox sender;
- ``web``: one ASGI app on ``$PORT`` for Slack's HTTP events and the Telegram webhook, plus
  the outbox sender;
- ``scheduler``: scheduled jobs (SLA checks, digests);
- ``all`` (default): everything in one process.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import signal
from typing import Annotated

import typer

logger = logging.getLogger(__name__)


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

    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    failed = False
    with contextlib.suppress(KeyboardInterrupt):
        failed = asyncio.run(_run(settings, role))
    if failed:  # a supervisor (systemd, the platform) sees it and restarts or alerts
        raise typer.Exit(1)


async def _run(settings: object, role: ProcessRole) -> bool:
    """Run until a signal (returns False) or until a part dies (returns True)."""
    from bot.bootstrap import build_channels, build_helpdesk, start_channels
    from bot.config import Settings, load_desk_config
    from bot.messages import HoldsConnection

    assert isinstance(settings, Settings)
    desk = load_desk_config(settings.config_file)
    listen = role in (ProcessRole.ALL, ProcessRole.WORKER)
    channels = build_channels(settings, listen=listen)
    if not channels and role != ProcessRole.SCHEDULER:
        typer.echo(
            "No platform is configured: set SLACK_BOT_TOKEN, TELEGRAM_TOKEN or DISCORD_TOKEN "
            "(see the README), or try `helpdesk chat`.",
            err=True,
        )
        raise typer.Exit(2)
    helpdesk = await build_helpdesk(settings, channels=channels, desk=desk)
    stop = _stop_on_signals()
    tasks: list[asyncio.Task[None]] = []
    failed = False
    try:
        await start_channels(helpdesk)
        await helpdesk.intake.recover()
        tasks.append(asyncio.create_task(helpdesk.sender.run()))
        for channel in channels.values():  # a connection lost for good ends the process
            if isinstance(channel, HoldsConnection):
                tasks.append(asyncio.create_task(channel.wait_lost()))
        if role in (ProcessRole.ALL, ProcessRole.WEB):
            tasks.append(asyncio.create_task(_serve_web(helpdesk)))
        if role in (ProcessRole.ALL, ProcessRole.SCHEDULER):
            from bot.bootstrap import run_scheduler

            tasks.append(asyncio.create_task(run_scheduler(helpdesk)))
        logger.info("running as %s with %s", role.value, ", ".join(channels) or "no adapters")
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
        for task in done:  # a part that died takes the process down, loudly
            if task is not stopper and not task.cancelled() and task.exception():
                failed = True
                logger.error("stopping: %s failed", task.get_coro(), exc_info=task.exception())
        stopper.cancel()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await helpdesk.intake.wait_idle()
        for channel in channels.values():
            await channel.stop()
        await helpdesk.close()
    logger.info("stopped")
    return failed


def _stop_on_signals() -> asyncio.Event:
    """SIGTERM (a platform's restart) or SIGINT: finish what is in hand, then stop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop


async def _serve_web(helpdesk: object) -> None:
    import uvicorn

    from bot.bootstrap import HelpDesk
    from bot.web import create_web_app

    assert isinstance(helpdesk, HelpDesk)
    config = uvicorn.Config(
        create_web_app(helpdesk.channels),
        host=helpdesk.settings.web_host,
        port=helpdesk.settings.web_port,
        log_level="warning",
    )
    await uvicorn.Server(config).serve()
