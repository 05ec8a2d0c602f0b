"""``helpdesk config show``: the settings in force (secrets shown only as set or not)."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer

from bot.cli.boundary import CommandGroup

app = typer.Typer(help="Show and check the configuration.", no_args_is_help=True, cls=CommandGroup)


@app.command("show")
def show(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Print the settings and helpdesk.yml as they will be used; fail on an invalid file (the
    business's replies.yml included)."""
    from bot.config import Settings, load_desk_config
    from bot.dialogs.wording import load_wording

    settings = Settings()
    # an invalid file: the CLI's boundary says so
    desk = load_desk_config(settings.desk_config_file)
    load_wording(settings.replies_file, desk.business)
    view = {
        "settings": settings.public_view(),
        "desk": desk.model_dump(mode="json"),
        "backlog": _backlog(),
    }
    if as_json:
        typer.echo(json.dumps(view, indent=2))
        return
    for key, value in view["settings"].items():
        typer.echo(f"{key:<24} {value}")
    typer.echo("")
    for name, figures in view["backlog"].items():
        shown = " · ".join(f"{v} {k}" for k, v in figures.items())
        typer.echo(f"{name:<24} {shown}")
    typer.echo("")
    typer.echo("helpdesk.yml:")
    for queue in desk.queues:
        typer.echo(f"  queue {queue.name:<12} → {queue.channel}")


def _backlog() -> dict[str, dict[str, int]]:
    """What waits or failed in the database: inbounds not handled (``failed`` ones need an
    operator: ``helpdesk inbox list --status failed``) and messages waiting to go out or given
    up on (``helpdesk outbox list --status parked``)."""
    from bot.cli.database import open_database
    from bot.storage import inbox
    from bot.storage.outbox import delivery_counts

    async def read() -> dict[str, dict[str, int]]:
        async with open_database() as sessions:
            inbound = await inbox.counts(sessions)
            async with sessions() as session:
                outbound = await delivery_counts(session)
            return {"inbox": inbound, "outbox": outbound}

    try:
        return asyncio.run(read())
    except Exception as exc:  # the settings are still worth showing without the database
        typer.echo(f"(database not readable: {exc})", err=True)
        return {}
