"""``helpdesk init``: set up a business's own desk in a data directory.

It writes what the rest of the help desk reads from there: ``helpdesk.yml`` (the business's
name, what the bot covers, its help centre and languages), ``articles/`` (copied from a folder
of Markdown, made from a CSV or XLSX spreadsheet, or empty), ``nlu/`` (where its own topic
intents and entities go) and ``replies.yml`` (its own wording). Asks for what the flags leave
out, unless ``--yes``; never overwrites a set-up directory without ``--force``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
import yaml

_NLU_README = """\
# This business's own intents and entities (Rasa NLU YAML, version "3.1")

Optional. Questions are answered from `articles/` without any intents. Add intents here when
queues should route on topics (`queues[].intents` in helpdesk.yml), and entities whose values
become case tags (a `lookup: product` table) or are recognised (a `regex:` pattern):

    version: "3.1"
    nlu:
    - intent: booking
      examples: |
        - can I book a service for Saturday
        - I need an appointment
    - lookup: product
      examples: |
        - cargo bike
        - e-bike

The dialog's own intents (greet, thanks, goodbye, affirm, deny, human_handoff, case_status,
add_info, reset, complaint_urgent, bot_challenge) come with the help desk; don't repeat them.
The intent model retrains by itself on the next start after a change here.
"""

_REPLIES_TEMPLATE = """\
# This business's own wording. Any sentence of the bot can be reworded here by its key: its name
# in bot/dialogs/replies.py in lower case. Placeholders: {business} and {covers} anywhere, and a
# reply's own facts ({number}, {agent_name} …), the essential ones required. Checked at start.
#
# greeting: "Hello from {business}! Ask me about {covers}."
# thanks: "Any time!"
# case_opened: "Ticket #{number} is open; someone will be with you shortly."
"""

_ARTICLES_README = """\
# Articles

One Markdown file per article; the file name is its slug (`opening-hours.md` →
`<help centre>/opening-hours`). Front matter gives the title, and optionally a category, tags
and questions customers ask:

    ---
    title: Opening hours
    tags: [hours, holidays]
    questions:
      - when are you open
    ---
    We're open Monday to Saturday, 9:00–18:00.

New or changed files are imported on the next start (or `helpdesk kb import`).
"""


def init(
    directory: Annotated[
        Path | None,
        typer.Argument(help="the data directory to set up [default: HELPDESK_DATA_DIR]"),
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="the business's name")] = None,
    covers: Annotated[
        str | None,
        typer.Option(
            "--covers", help="what the bot covers, e.g. 'repairs, servicing and bookings'"
        ),
    ] = None,
    help_center: Annotated[
        str | None,
        typer.Option("--help-center", help="help centre base URL: answers link <base>/<slug>"),
    ] = None,
    languages: Annotated[
        list[str] | None,
        typer.Option("--language", help="a language customers write in (repeat for more)"),
    ] = None,
    articles: Annotated[
        Path | None,
        typer.Option(
            "--articles", help="a folder of Markdown articles or a .csv / .xlsx spreadsheet"
        ),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="ask nothing: flags and defaults")] = False,
    force: Annotated[bool, typer.Option("--force", help="overwrite an existing set-up")] = False,
) -> None:
    """Set up a business: its name, what the bot covers, help centre, languages, articles."""
    target = _target(directory)
    config = target / "helpdesk.yml"
    if config.exists() and not force:
        _refuse(f"{config} already exists; use --force to overwrite it")
    if name is None and not yes:
        name = typer.prompt("Business name")
    if not name or not name.strip():
        _refuse("a business name is needed (--name)")
    if covers is None and not yes:
        covers = typer.prompt(
            "What does the bot cover? (e.g. 'repairs, servicing and bookings')", default=""
        )
    if help_center is None and not yes:
        help_center = typer.prompt("Help centre base URL (blank: none)", default="")
    if languages is None and not yes:
        languages = typer.prompt("Languages (codes, comma-separated)", default="en").split(",")
    if articles is None and not yes:
        answer = typer.prompt(
            "Articles: a folder of Markdown, a .csv or .xlsx spreadsheet, or blank for none",
            default="",
        )
        articles = Path(answer).expanduser() if answer.strip() else None
    settings = _settings(name, covers or "", help_center or "", languages or ["en"])
    imported = _articles(target / "articles", articles, force=force)
    config.write_text(_yaml_with_header(settings), encoding="utf-8")
    _write_once(target / "replies.yml", _REPLIES_TEMPLATE)
    (target / "nlu").mkdir(exist_ok=True)
    _write_once(target / "nlu" / "README.md", _NLU_README)
    typer.echo(f"Set up {settings['business']['name']} in {target}: {imported} article(s).")
    typer.echo(f"Start it with: HELPDESK_DATA_DIR={target} helpdesk chat")


def _target(directory: Path | None) -> Path:
    if directory is None:
        from_env = os.environ.get("HELPDESK_DATA_DIR")
        if not from_env:
            _refuse("name the directory to set up (or set HELPDESK_DATA_DIR)")
        directory = Path(from_env)
    from bot.config import PROJECT_ROOT

    target = directory.expanduser().absolute()
    if target == (PROJECT_ROOT / "data").absolute():
        _refuse(f"{target} is the bundled sample; set up your business in a directory of its own")
    target.mkdir(parents=True, exist_ok=True)
    return target


def _settings(name: str, covers: str, help_center: str, languages: list[str]) -> dict[str, Any]:
    codes = [code.strip().lower() for code in languages if code.strip()]
    bad = [code for code in codes if not (code.isalpha() and 2 <= len(code) <= 3)]
    if bad or not codes:
        _refuse(f"languages are ISO 639-1 codes like en, de, fr (got {', '.join(bad) or 'none'})")
    settings: dict[str, Any] = {
        "business": {"name": name.strip(), "covers": " ".join(covers.split())},
        "supported_languages": codes,
    }
    if help_center.strip():
        base = help_center.strip()
        if not base.startswith(("https://", "http://")):
            _refuse(f"the help centre URL must start with https:// (got {base!r})")
        settings["help_center_url"] = base if "{slug}" in base else base.rstrip("/") + "/{slug}"
    from bot.config import DeskConfig

    DeskConfig.model_validate(settings)  # what the desk will read must be valid now
    return settings


def _yaml_with_header(settings: dict[str, Any]) -> str:
    body = yaml.safe_dump(settings, allow_unicode=True, sort_keys=False)
    return (
        "# Written by `helpdesk init`. Queues, roles, SLAs, business hours: see "
        "helpdesk.example.yml.\n" + body
    )


def _articles(folder: Path, source: Path | None, *, force: bool) -> int:
    """Fill ``folder`` from ``source``; the number of articles it then holds."""
    from bot.knowledge.importer import article_files
    from bot.knowledge.spreadsheet import SHEET_SUFFIXES, read_sheet

    folder.mkdir(exist_ok=True)
    _write_once(folder / "README.md", _ARTICLES_README)
    if source is None:
        return len(article_files(folder))
    if source.is_dir():
        for file in article_files(source):
            _copy(file, folder / file.name, force=force)
    elif source.is_file() and source.suffix.lower() in SHEET_SUFFIXES:
        # The same reading as `helpdesk kb import faq.csv`: same columns, same articles.
        sheet = read_sheet(source)
        if sheet.failed:
            _refuse(f"--articles: {sheet.failed}")
        for note in sheet.notes:
            typer.echo(f"note: {note}", err=True)
        for problem in sheet.problems:
            typer.echo(f"warning: {source}, {problem}; row skipped", err=True)
        for article in sheet.articles:
            _write(folder / f"{article.slug}.md", article.markdown, force=force)
    else:
        _refuse(
            f"--articles: {source} is neither a folder of Markdown files nor a .csv or .xlsx file"
        )
    return len(article_files(folder))


def _copy(source: Path, target: Path, *, force: bool) -> None:
    if target.exists() and not force:
        _refuse(f"{target} already exists; use --force to overwrite it")
    shutil.copyfile(source, target)


def _write(target: Path, text: str, *, force: bool) -> None:
    if target.exists() and not force:
        _refuse(f"{target} already exists; use --force to overwrite it")
    target.write_text(text, encoding="utf-8")


def _write_once(target: Path, text: str) -> None:
    """Guides and templates: a business's own edits are never replaced."""
    if not target.exists():
        target.write_text(text, encoding="utf-8")


def _refuse(message: str) -> NoReturn:
    from bot.cli.boundary import EXIT_CONFIG

    typer.echo(f"helpdesk: {message}", err=True)
    raise typer.Exit(EXIT_CONFIG)
