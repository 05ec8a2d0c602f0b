"""``helpdesk intent``: the business's intents from the command line — the same verbs as the
admins' ``intent …`` in chat, on the same database (the source of truth). A change to the
examples retrains the model here and stores it, so every running process of the desk serves it
from its next message; ``--no-train`` leaves that to the desk's next start.

torch and the database drivers are imported inside the commands, so ``helpdesk --help`` stays
instant.
"""

from __future__ import annotations

import asyncio
import getpass
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from bot.cli.boundary import EXIT_CONFIG, CommandGroup

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

app = typer.Typer(
    help="The business's intents: list, show, create, examples, actions, retire, import.",
    no_args_is_help=True,
    cls=CommandGroup,
)

T = TypeVar("T")
NameArg = Annotated[str, typer.Argument(help="the intent's name")]
NoTrain = Annotated[
    bool, typer.Option("--no-train", help="don't retrain now (the desk retrains on its start)")
]
JsonOption = Annotated[bool, typer.Option("--json", help="machine-readable output")]


def _who() -> dict[str, Any]:
    from datetime import UTC, datetime

    return {"actor": f"cli:{getpass.getuser()}", "platform": "cli", "at": datetime.now(UTC)}


def _run(work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    from bot.cli.database import open_database
    from bot.errors import UserFacingError

    async def main() -> T:
        async with open_database() as sessions:
            await _seed(sessions)
            return await work(sessions)

    try:
        return asyncio.run(main())
    except UserFacingError as exc:
        typer.echo(f"helpdesk: {exc.safe_message}", err=True)
        raise typer.Exit(code=EXIT_CONFIG) from exc


async def _seed(sessions: async_sessionmaker[AsyncSession]) -> None:
    """A database the desk never started on gets the files' intents first, as a start would."""
    from bot.config import Settings
    from bot.intents.sources import seed_if_empty

    settings = Settings()
    topics = settings.topic_nlu_data if settings.nlu_sources[1:] else None
    async with sessions() as session:
        await seed_if_empty(session, topics, at=_who()["at"])
        await session.commit()


async def _retrain(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Train on the database's intents and store the model (what every process loads)."""
    from bot.bootstrap import live_intents
    from bot.clock import SystemClock
    from bot.config import Settings
    from nlu.encoder_choice import select_embedder

    settings = Settings()
    encoder = await asyncio.to_thread(select_embedder, settings.encoder_dir, settings.encoder)
    intents = live_intents(settings, sessions, encoder, SystemClock())
    await intents.start()  # trains and stores when the data changed
    await intents.evaluated()
    accuracy = (await _evaluation(sessions)).get("accuracy")
    shown = f"{accuracy:.2f}" if isinstance(accuracy, float) else "not measured"
    typer.echo(f"retrained: model stored for every process (held-out accuracy {shown})")


async def _evaluation(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    from bot.intents import store

    async with sessions() as session:
        newest = await store.latest(session)
    return newest.evaluation if newest is not None else {}


def _change(work: Callable[[AsyncSession], Awaitable[str]], *, no_train: bool) -> None:
    """Run one change in a transaction, say what it did, retrain if it asks for it."""
    from bot.intents.catalog import retraining_wanted

    async def main(sessions: async_sessionmaker[AsyncSession]) -> None:
        async with sessions.begin() as session:
            said = await work(session)
            wanted = retraining_wanted(session)
        typer.echo(said)
        if wanted and not no_train:
            await _retrain(sessions)

    _run(main)


@app.command("list")
def list_command(as_json: JsonOption = False) -> None:
    """Every intent with its example count and held-out accuracy from the last training."""
    from bot.intents.catalog import list_intents

    async def main(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
        async with sessions() as session:
            rows = await list_intents(session)
        evaluation = await _evaluation(sessions)
        per_intent = evaluation.get("per_intent", {})
        return [
            {
                "name": r.name,
                "examples": r.examples,
                "builtin": r.builtin,
                "retired": r.retired,
                "action": r.action.to_data() if r.action else None,
                "held_out": per_intent.get(r.name),  # [right, held out] or None
            }
            for r in rows
        ] + [{"method": evaluation.get("method"), "accuracy": evaluation.get("accuracy")}]

    rows = _run(main)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    *intents, overall = rows
    for row in intents:
        held = row["held_out"]
        accuracy = f"{held[0]}/{held[1]}" if held and not row["retired"] else "—"
        notes = " (built in)" if row["builtin"] else " (retired)" if row["retired"] else ""
        typer.echo(f"{row['name']:28} {row['examples']:4} examples  {accuracy:>7}{notes}")
    if overall["method"]:
        typer.echo(f"accuracy: {overall['accuracy']:.3f}, {overall['method']}")


@app.command("show")
def show_command(name: NameArg) -> None:
    """An intent's action and examples."""
    from bot.intents.actions import IntentAction
    from bot.intents.catalog import builtin_examples, builtin_intents, examples_of, find_intent

    async def main(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
        if name in builtin_intents():
            return [f"{name}: built in (the dialog's own)", *builtin_examples(name)]
        async with sessions() as session:
            record = await find_intent(session, name)
            if record is None:
                from bot.errors import NotFound

                raise NotFound(f"There is no intent '{name}'.")
            action = IntentAction.from_data(record.action)
            state = " (retired)" if record.retired_at else ""
            head = f"{name}{state}: {action.describe() if action else 'the default action'}"
            return [head, *await examples_of(session, name)]

    head, *examples = _run(main)
    typer.echo(head)
    for example in examples:
        typer.echo(f"  - {example}")


@app.command("create")
def create_command(name: NameArg) -> None:
    """Create an intent (or bring a retired one back)."""
    from bot.intents.catalog import create_intent

    async def work(session: AsyncSession) -> str:
        created = await create_intent(session, name, **_who())
        return f"created {name}" if created else f"{name} already exists"

    _change(work, no_train=False)


@app.command("add")
def add_command(
    name: NameArg,
    examples: Annotated[list[str], typer.Argument(help="examples (Rasa markup allowed)")],
    no_train: NoTrain = False,
) -> None:
    """Add examples to an intent."""
    from bot.intents.catalog import add

    async def work(session: AsyncSession) -> str:
        outcome = await add(session, name, examples, **_who())
        lines = [f"added {len(outcome.added)} examples to {name}"]
        lines += [f"already an example of {owner}: {text}" for text, owner in outcome.already]
        return "\n".join(lines)

    _change(work, no_train=no_train)


@app.command("remove")
def remove_command(
    name: NameArg,
    examples: Annotated[list[str], typer.Argument(help="examples to remove")],
    no_train: NoTrain = False,
) -> None:
    """Remove examples from an intent."""
    from bot.intents.catalog import remove

    async def work(session: AsyncSession) -> str:
        removed = await remove(session, name, examples, **_who())
        return f"removed {len(removed)} examples from {name}"

    _change(work, no_train=no_train)


@app.command("action")
def action_command(
    name: NameArg,
    action: Annotated[
        list[str],
        typer.Argument(help="article SLUG | say TEXT | handoff QUEUE | route QUEUE | none"),
    ],
) -> None:
    """Set what an intent does; every running process serves it from its next message."""
    from bot.config import Settings, load_desk_config
    from bot.intents.actions import parse_action
    from bot.intents.catalog import set_action

    queues = [q.name for q in load_desk_config(Settings().desk_config_file).queues]

    async def work(session: AsyncSession) -> str:
        parsed = parse_action(" ".join(action))
        await set_action(session, name, parsed, queues=queues, **_who())
        return f"{name} now {parsed.describe()}" if parsed else f"{name}: the default action"

    _change(work, no_train=True)


@app.command("retire")
def retire_command(name: NameArg, no_train: NoTrain = False) -> None:
    """Take an intent out of the model (its examples are kept)."""
    from bot.intents.catalog import retire_intent

    async def work(session: AsyncSession) -> str:
        count = await retire_intent(session, name, **_who())
        return f"retired {name} ({count} examples kept)"

    _change(work, no_train=no_train)


@app.command("import")
def import_command(
    source: Annotated[
        Path | None, typer.Argument(help="Rasa NLU file or folder [default: <data dir>/nlu]")
    ] = None,
    no_train: NoTrain = False,
) -> None:
    """Take the files' new intents and examples into the database (nothing is removed)."""
    from bot.config import Settings
    from bot.intents.sources import import_files

    topics = source or Settings().topic_nlu_data

    async def work(session: AsyncSession) -> str:
        intents, examples = await import_files(session, topics, **_who())
        return f"imported {intents} new intents and {examples} new examples from {topics}"

    _change(work, no_train=no_train)
