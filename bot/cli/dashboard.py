"""``helpdesk dashboard hash-password``: the hash to put in helpdesk.yml for a manager's or an
admin's password sign-in to the live dashboard. The password is read without echo (or from
standard input with ``--stdin``) and never printed, stored or logged."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from bot.cli.boundary import CommandGroup

app = typer.Typer(help="The managers' live dashboard.", no_args_is_help=True, cls=CommandGroup)

MIN_LENGTH = 12


@app.command("hash-password")
def hash_password_command(
    stdin: Annotated[
        bool, typer.Option("--stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Print the scrypt hash of a password, for ``dashboard: passwords:`` in helpdesk.yml."""
    from bot.dashboard.passwords import hash_password

    if stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < MIN_LENGTH:
        typer.echo(f"A dashboard password needs at least {MIN_LENGTH} characters.", err=True)
        raise typer.Exit(2)
    typer.echo(hash_password(password))
