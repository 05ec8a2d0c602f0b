"""``helpdesk config show``: the settings in force (secrets shown only as set or not)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from bot.cli.boundary import CommandGroup

app = typer.Typer(help="Show and check the configuration.", no_args_is_help=True, cls=CommandGroup)


@app.command("show")
def show(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Print the settings and helpdesk.yml as they will be used; fail on an invalid file."""
    from bot.config import Settings, load_desk_config

    settings = Settings()
    desk = load_desk_config(settings.config_file)  # an invalid file: the CLI's boundary says so
    view = {"settings": settings.public_view(), "desk": desk.model_dump(mode="json")}
    if as_json:
        typer.echo(json.dumps(view, indent=2))
        return
    for key, value in view["settings"].items():
        typer.echo(f"{key:<24} {value}")
    typer.echo("")
    typer.echo("helpdesk.yml:")
    for queue in desk.queues:
        typer.echo(f"  queue {queue.name:<12} → {queue.channel}")
