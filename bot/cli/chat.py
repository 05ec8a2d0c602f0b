"""``helpdesk chat``: the whole help desk in one terminal, on the embedded defaults."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated

import typer


def chat(
    script: Annotated[
        Path | None,
        typer.Option(
            "--script",
            help="Feed lines from FILE: customer messages, '/agent …' commands, "
            "bare numbers pick choices.",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress output.")] = False,
    agent_name: Annotated[str, typer.Option(help="Your name when you act as an agent.")] = "Agent",
) -> None:
    """Chat with the help desk in the terminal (you can play the agent too: '/agent claim 1')."""
    from bot.config import Settings

    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    lines = script.read_text(encoding="utf-8", errors="replace").splitlines() if script else None
    asyncio.run(_chat(settings, lines, quiet=quiet, agent_name=agent_name))


async def _chat(settings: object, lines: list[str] | None, *, quiet: bool, agent_name: str) -> None:
    from bot.adapters.console import ConsoleChannel
    from bot.bootstrap import build_helpdesk
    from bot.cli.progress import progress_reporter
    from bot.config import Settings
    from bot.messages import Inbound

    assert isinstance(settings, Settings)
    console = ConsoleChannel(lines=lines, agent_name=agent_name)
    with progress_reporter(quiet) as progress:
        helpdesk = await build_helpdesk(settings, channels={"terminal": console}, progress=progress)
    retries = asyncio.create_task(helpdesk.intake.run())  # failed lines are tried again
    try:
        await helpdesk.intake.recover()
        await helpdesk.sender.drain()
        if lines is None:
            print(
                "Type your question (/help for commands, /agent … to act as an agent, "
                "/quit to leave)."
            )

        async def on_inbound(inbound: Inbound) -> None:
            await helpdesk.intake.receive(inbound)
            await helpdesk.sender.drain()

        await console.start(on_inbound)
        await console.finished.wait()
        await helpdesk.sender.drain()
    finally:
        await console.stop()
        helpdesk.intake.stop()
        await asyncio.gather(retries, return_exceptions=True)
        await helpdesk.close()
