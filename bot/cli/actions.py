"""``helpdesk actions``: the help desk as a Rasa action server.

Rasa's ``endpoints.yml`` points its ``action_endpoint`` at ``http://HOST:PORT/webhook``. The
process also runs what ``helpdesk run --role worker`` runs — the configured platform adapters
(the agents' channel), the intake and the outbox sender — so a case opened from Rasa reaches
the agents and their replies come back (pushed through ``RASA_URL``). ``--agents-here`` takes
agents' commands from this terminal (``/agent claim 1``, ``/agent reply 1 …``) for trying it out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Annotated

import typer

logger = logging.getLogger(__name__)

DEFAULT_PORT = 5055  # where Rasa looks for an action server unless told otherwise


def actions(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the action server.")] = DEFAULT_PORT,
    agents_here: Annotated[
        bool,
        typer.Option(
            "--agents-here",
            help="Serve the agents' channel terminal:agents in this terminal "
            "(type '/agent claim 1', '/agent reply 1 …').",
        ),
    ] = False,
) -> None:
    """Serve the help desk's custom actions to a Rasa assistant (its action_endpoint)."""
    from bot.config import Settings

    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    failed = False
    with contextlib.suppress(KeyboardInterrupt):
        failed = asyncio.run(_actions(settings, host, port, agents_here))
    if failed:
        raise typer.Exit(1)


async def _actions(settings: object, host: str, port: int, agents_here: bool) -> bool:
    from bot.actions.catalog import action_executor
    from bot.actions.turns import RasaTurns
    from bot.bootstrap import build_channels, build_helpdesk, build_rasa_channel
    from bot.cli.database import ready_database
    from bot.cli.run import ProcessRole, _stop_on_signals, _unless_stopped, serve
    from bot.config import Settings, load_desk_config
    from bot.messages import Channel

    assert isinstance(settings, Settings)
    stop = _stop_on_signals()
    desk = load_desk_config(settings.config_file)
    await ready_database(settings.effective_database_url)
    rasa = build_rasa_channel(settings)
    channels: dict[str, Channel] = {**build_channels(settings, listen=True), "rasa": rasa}
    if agents_here:
        from bot.adapters.console import ConsoleChannel

        channels["terminal"] = ConsoleChannel()
    if not settings.rasa_url:
        logger.warning("RASA_URL is not set: agents' later replies cannot reach Rasa")
    helpdesk = await _unless_stopped(build_helpdesk(settings, channels=channels, desk=desk), stop)
    if helpdesk is None:
        return False
    executor = action_executor(RasaTurns(helpdesk=helpdesk, channel=rasa))
    webhook = asyncio.create_task(_serve_actions(executor, host, port, stop))
    try:
        return await serve(helpdesk, ProcessRole.WORKER, stop)
    finally:
        stop.set()
        await asyncio.gather(webhook, return_exceptions=True)


async def _serve_actions(executor: object, host: str, port: int, stop: asyncio.Event) -> None:
    import uvicorn
    from rasa_sdk.executor import ActionExecutor

    from bot.actions.server import action_server_app

    assert isinstance(executor, ActionExecutor)
    app = action_server_app(executor)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning")
    server = uvicorn.Server(config)
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign, assignment]
    watcher = asyncio.create_task(_exit_on(stop, server))
    logger.info("Rasa action server on http://%s:%s/webhook", host, port)
    try:
        await server.serve()
    finally:
        watcher.cancel()


async def _exit_on(stop: asyncio.Event, server: object) -> None:
    await stop.wait()
    server.should_exit = True  # type: ignore[attr-defined]
