"""``helpdesk nlu``: train, evaluate and try the intent model.

Heavy imports (scikit-learn, torch via the embedder) happen inside the commands, so
``helpdesk --help`` stays instant.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.cli.boundary import CommandGroup

if TYPE_CHECKING:
    from nlu.vector_cache import Progress

app = typer.Typer(
    help="Train, evaluate and try the intent model (the dialog's intents + <data dir>/nlu).",
    no_args_is_help=True,
    cls=CommandGroup,
)

DataOption = Annotated[
    Path | None,
    typer.Option(
        "--data",
        help="Rasa NLU file or directory [default: the dialog's intents + <data dir>/nlu]",
    ),
]
ModelDirOption = Annotated[
    Path | None,
    typer.Option("--model-dir", help="where the model lives [default: <data dir>/models/nlu]"),
]
JsonOption = Annotated[bool, typer.Option("--json", help="machine-readable output")]


def _paths(data: Path | None, model_dir: Path | None) -> tuple[Path | list[Path], Path]:
    """``--data`` is the whole training data; without it, the bundled dialog intents and the
    business's own topics (``<data dir>/nlu`` or HELPDESK_NLU_DATA)."""
    if data is not None and model_dir is not None:
        return data, model_dir
    from bot.config import Settings

    settings = Settings()
    return data or settings.nlu_sources, model_dir or settings.model_dir


def _embedder() -> Any:
    from nlu.embedding import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


def _fail(message: str, data: Path | None, model_dir: Path | None) -> typer.Exit:
    """Bad or missing intent data or model: one sentence naming where they come from."""
    from bot.cli.boundary import EXIT_CONFIG

    data_from = "--data" if data is not None else "HELPDESK_NLU_DATA"
    model_from = "--model-dir" if model_dir is not None else "HELPDESK_DATA_DIR"
    typer.echo(
        f"helpdesk: {message} (intent data from {data_from}, the model in {model_from})", err=True
    )
    return typer.Exit(code=EXIT_CONFIG)


def _emit(payload: dict[str, Any]) -> None:
    typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))


def _plain_progress(stage: str, done: int, total: int) -> None:
    if total and (done == total or done % 64 == 0):
        typer.echo(f"{stage} {done}/{total}", err=True)


def _run_training(data: Path | list[Path], model_dir: Path, quiet: bool) -> Any:
    from nlu.train import train

    embedder = _embedder()
    if quiet:
        return train(data, model_dir, embedder)
    if not sys.stderr.isatty():
        return train(data, model_dir, embedder, _plain_progress)
    from rich.progress import Progress as RichProgress

    with RichProgress(transient=True) as bar:
        tasks: dict[str, Any] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=max(total, 1))
            bar.update(tasks[stage], completed=done, total=max(total, 1))

        callback: Progress = progress
        return train(data, model_dir, embedder, callback)


@app.command("train")
def train_command(
    data: DataOption = None, model_dir: ModelDirOption = None, as_json: JsonOption = False
) -> None:
    """Train the intent model on the Rasa data and save it."""
    from nlu.errors import NluError

    data_path, directory = _paths(data, model_dir)
    try:
        report = _run_training(data_path, directory, quiet=as_json)
    except NluError as exc:
        raise _fail(str(exc), data, model_dir) from exc
    if as_json:
        _emit(report.to_dict())
        return
    for warning in report.warnings:
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(
        f"trained {report.intents} intents on {report.examples} examples "
        f"({report.encoded} newly encoded) in {report.seconds:.1f}s -> {report.path}"
    )


@app.command("evaluate")
def evaluate_command(
    data: DataOption = None,
    model_dir: ModelDirOption = None,
    test: Annotated[
        Path | None, typer.Option("--test", help="Rasa test file (out_of_scope counts as OOS)")
    ] = None,
    folds: Annotated[
        int | None, typer.Option("--folds", min=2, help="k-fold cross-validation")
    ] = None,
    holdout: Annotated[
        float, typer.Option("--holdout", min=0.05, max=0.9, help="held-out fraction")
    ] = 0.2,
    seed: Annotated[int, typer.Option("--seed", help="split seed")] = 42,
    as_json: JsonOption = False,
) -> None:
    """Evaluate on held-out examples, by cross-validation, or on a test file; also scores what
    the dialog acts on (intents below helpdesk.yml's intent_threshold are not acted on)."""
    from bot.config import Settings, load_desk_config
    from nlu.errors import NluError
    from nlu.evaluate import evaluate
    from nlu.train import CACHE_FILE
    from nlu.training_data import load_training_data
    from nlu.vector_cache import VectorCache

    data_path, directory = _paths(data, model_dir)
    desk = load_desk_config(Settings().desk_config_file)  # an invalid file: the boundary says so
    try:
        training = load_training_data(data_path)
        test_data = load_training_data(test) if test is not None else None
        embedder = _embedder()
        # Reuse the training cache (read-only) so evaluating right after training is quick.
        cache = VectorCache(directory / CACHE_FILE, embedder.model_name)
        report = evaluate(
            training, embedder, test_data=test_data, folds=folds, holdout=holdout, seed=seed,
            cache=cache, intent_threshold=desk.intent_threshold,
        )  # fmt: skip
    except NluError as exc:
        raise _fail(str(exc), data, model_dir) from exc
    if as_json:
        _emit(report.to_dict())
        return
    _print_report(report)


def _print_report(report: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"[bold]{report.method}[/bold]: {report.examples} examples")
    low, high = report.accuracy_interval
    console.print(f"accuracy           {report.accuracy:.3f}  (95 % interval {low:.3f}–{high:.3f})")
    console.print(f"in-scope accuracy  {report.in_scope_accuracy:.3f}")
    if report.out_of_scope_recall is not None:
        console.print(f"out-of-scope recall {report.out_of_scope_recall:.3f}")
    if report.dialog_accuracy is not None and report.dialog_accuracy_interval is not None:
        low, high = report.dialog_accuracy_interval
        console.print(
            f"dialog acts rightly {report.dialog_accuracy:.3f}  (95 % interval {low:.3f}–"
            f"{high:.3f}; intent confidence ≥ {report.intent_threshold:g})"
        )
    table = Table("intent", "precision", "recall", "f1", "support")
    for score in report.per_intent:
        table.add_row(
            score.intent,
            f"{score.precision:.2f}",
            f"{score.recall:.2f}",
            f"{score.f1:.2f}",
            str(score.support),
        )
    console.print(table)
    if report.confused:
        console.print("most confused (intent -> predicted):")
        for gold, predicted, count in report.confused:
            console.print(f"  {gold} -> {predicted}: {count}")


@app.command("parse")
def parse_command(
    text: Annotated[str, typer.Argument(help="the message to understand")],
    data: DataOption = None,
    model_dir: ModelDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Parse one message (trains first if there is no model yet)."""
    from nlu.errors import NluError
    from nlu.model import NluModel
    from nlu.train import is_current

    data_path, directory = _paths(data, model_dir)
    try:
        embedder = _embedder()
        if not is_current(data_path, directory, model_name=embedder.model_name):
            _run_training(data_path, directory, quiet=as_json)
        result = NluModel.load(directory).parse(text, embedder)
    except NluError as exc:
        raise _fail(str(exc), data, model_dir) from exc
    if as_json:
        _emit(result.to_dict())
        return
    label = "out of scope" if result.out_of_scope else result.intent
    typer.echo(f"intent: {label} ({result.confidence:.2f})")
    for name, score in result.ranking[:3]:
        typer.echo(f"  {name:24} {score:.2f}")
    for entity in result.entities:
        typer.echo(f"entity: {entity.entity} = {entity.value!r} ({entity.text!r})")


@app.command("export")
def export_command(
    data: DataOption = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="file to write [default: standard output]", dir_okay=False),
    ] = None,
) -> None:
    """Write the intent data as one Rasa NLU file a Rasa assistant can train on (intents with
    entity roles, groups and metadata — an intent's action too —, synonyms, regexes, lookup
    tables). Without ``--data``: what the desk trains on, its intents from the database (the
    source of truth) and its entities from <data dir>/nlu."""
    from nlu.errors import NluError
    from nlu.training_data import (
        describe,
        load_training_data,
        parse_training_yaml,
        to_rasa_document,
    )

    try:
        if data is None:
            document = _export_database()
            loaded = parse_training_yaml(document, "the export")
        else:
            loaded = load_training_data(data)
            document = to_rasa_document(
                loaded, header=f"Exported by `helpdesk nlu export` from {data}"
            )
            # what Rasa will read must be what the help desk trains on: checked, never assumed
            if parse_training_yaml(document, "the export").fingerprint() != loaded.fingerprint():
                raise NluError(f"the export of {data} would not read back the same")
    except NluError as exc:
        raise _fail(str(exc), data, None) from exc
    if out is None:
        sys.stdout.write(document)
        return
    out.write_text(document, encoding="utf-8")
    counts = ", ".join(f"{n} {what}" for what, n in describe(loaded).items())
    typer.echo(f"wrote {out}: {counts}", err=True)


def _export_database() -> str:
    """The desk's training data from the database, checked to read back as what it trains on."""
    import asyncio

    from bot.cli.database import open_database
    from bot.clock import SystemClock
    from bot.config import Settings
    from bot.intents.sources import export_document, seed_if_empty, training_data
    from nlu.errors import NluError
    from nlu.training_data import parse_training_yaml

    settings = Settings()
    topics = settings.topic_nlu_data if settings.nlu_sources[1:] else None
    header = "Exported by `helpdesk nlu export` from the help desk's database"

    async def main() -> tuple[str, str]:
        async with open_database() as sessions:
            async with sessions() as session:  # as the desk's first start would
                await seed_if_empty(session, topics, at=SystemClock().now())
                await session.commit()
            async with sessions() as session:
                document = await export_document(session, topics, header=header)
                trained_on = await training_data(session, topics)
        return document, trained_on.fingerprint()

    document, fingerprint = asyncio.run(main())
    if parse_training_yaml(document, "the export").fingerprint() != fingerprint:
        raise NluError("the export of the database's intents would not read back the same")
    return document
