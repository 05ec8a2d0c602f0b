"""The ``helpdesk`` command line. Sub-commands live in sibling modules and import their heavy
dependencies inside the command functions, so ``helpdesk --help`` stays instant."""

from __future__ import annotations

import typer

from bot.cli import actions as actions_cli
from bot.cli import bench as bench_cli
from bot.cli import cases as cases_cli
from bot.cli import chat as chat_cli
from bot.cli import config as config_cli
from bot.cli import customers as customers_cli
from bot.cli import dashboard as dashboard_cli
from bot.cli import db as db_cli
from bot.cli import digest as digest_cli
from bot.cli import doctor as doctor_cli
from bot.cli import inbox as inbox_cli
from bot.cli import init as init_cli
from bot.cli import intent as intent_cli
from bot.cli import kb as kb_cli
from bot.cli import nlu as nlu_cli
from bot.cli import outbox as outbox_cli
from bot.cli import run as run_cli
from bot.cli.boundary import CommandGroup

app = typer.Typer(
    name="helpdesk",
    help="A chat-first help desk: answers from the knowledge base, opens cases, "
    "escalates to agents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=CommandGroup,
)
app.command("init")(init_cli.init)
app.command("chat")(chat_cli.chat)
app.command("run")(run_cli.run)
app.command("actions")(actions_cli.actions)
app.command("digest")(digest_cli.digest)
app.command("doctor")(doctor_cli.doctor)
app.add_typer(cases_cli.app, name="cases")
app.add_typer(customers_cli.app, name="customers")
app.add_typer(inbox_cli.app, name="inbox")
app.add_typer(kb_cli.app, name="kb")
app.add_typer(nlu_cli.app, name="nlu")
app.add_typer(intent_cli.app, name="intent")
app.add_typer(db_cli.app, name="db")
app.add_typer(config_cli.app, name="config")
app.add_typer(outbox_cli.app, name="outbox")
app.add_typer(bench_cli.app, name="bench")
app.add_typer(dashboard_cli.app, name="dashboard")


def main() -> None:
    """The ``helpdesk`` entry point; its errors pass the one boundary in ``boundary.py``."""
    app()
