"""``helpdesk config show``: the settings in force (secrets shown only as set or not)."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer

app = typer.Typer(help="Show and check the configuration.", no_args_is_help=True)


@app.command("show")
def show(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Print the settings and helpdesk.yml as they will be used; fail on an invalid file."""
    from bot.config import Settings, load_desk_config
    from bot.errors import ConfigError

    settings = Settings()
    try:
        desk = load_desk_config(settings.config_file)
    except ConfigError as exc:
        typer.echo(f"Invalid configuration: {exc}", err=True)
        raise typer.Exit(2) from exc
    view = {"settings": settings.public_view(), "desk": desk.model_dump(mode="json")}
    view["outbox"] = asyncio.run(_outbox_counts())
    if as_json:
        typer.echo(json.dumps(view, indent=2))
        return
    for key, value in view["settings"].items():
        typer.echo(f"{key:<24} {value}")
    outbox = view["outbox"]
    typer.echo(f"{'outbox':<24} {outbox['pending']} pending · {outbox['parked']} parked")
    typer.echo("")
    typer.echo("helpdesk.yml:")
    for queue in desk.queues:
        typer.echo(f"  queue {queue.name:<12} → {queue.channel}")


async def _outbox_counts() -> dict[str, int]:
    """Messages waiting to go out and messages given up on ('helpdesk outbox list --status
    parked' lists them)."""
    from bot.cli.database import open_database
    from bot.storage.outbox import delivery_counts

    async with open_database() as sessions, sessions() as session:
        return await delivery_counts(session)
