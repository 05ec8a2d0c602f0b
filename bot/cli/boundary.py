"""The command line's one error boundary.

A failure a person can fix — a setting that does not parse, an invalid ``helpdesk.yml``, a file
that is missing or unreadable, a database out of reach — ends the command with one sentence on
stderr naming the setting or file and what to do, and exit code 2. Anything else is a bug and
keeps its traceback, so it stays visible.
"""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import typer
from typer.core import TyperGroup

EXIT_CONFIG = 2  # the exit code of every failure the person running the command can fix
EXIT_INTERRUPTED = 130  # the shells' convention for a command stopped with Ctrl-C


class CommandGroup(TyperGroup):
    """The click group of ``helpdesk`` and of each of its sub-commands (``cls=`` of every
    ``typer.Typer``), so the boundary holds however a command is started: the console script,
    ``python -m bot``, or a test's ``CliRunner``."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().main(*args, **kwargs)
        except KeyboardInterrupt:
            # Ctrl-C outside a command's own handling: stop quietly, as a shell command does
            typer.echo("", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except Exception as exc:
            sentences = explain(exc)
            if sentences is None:
                raise
            _fail(sentences)


def _fail(sentences: list[str]) -> NoReturn:
    for sentence in sentences:
        typer.echo(f"helpdesk: {sentence}", err=True)
    sys.exit(EXIT_CONFIG)


def explain(exc: BaseException) -> list[str] | None:
    """What to tell the person for a failure they can fix, or None for a bug."""
    from pydantic import ValidationError

    from bot.errors import ConfigError, DatabaseUnavailable

    if isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        return explain(exc.exceptions[0])  # a task group that failed for one reason
    if isinstance(exc, ValidationError) and exc.title == "Settings":
        return [_setting_error(error) for error in exc.errors()]
    if isinstance(exc, ConfigError):
        return [f"configuration error: {_with_advice(str(exc))}"]
    if isinstance(exc, DatabaseUnavailable):
        return [str(exc)]
    if isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)):
        return [_file_error(exc)]
    from nlu.errors import NluError

    if isinstance(exc, NluError):  # the intent data or model the desk loads at start
        return [
            f"{exc} (the intent data comes from HELPDESK_NLU_DATA, the model from "
            "HELPDESK_DATA_DIR)"
        ]
    return None


def _setting_error(error: object) -> str:
    assert isinstance(error, dict)
    name = ".".join(str(part) for part in error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    named = f"{name}: {message}" if name else message  # a check of several settings names them
    if named.endswith(")"):  # the check said what to do already
        return f"configuration error: {named}"
    return (
        f"configuration error: {named} "
        "(fix it in the environment or in .env; the README's Configuration table lists them)"
    )


def _with_advice(message: str) -> str:
    """A ConfigError names the key; add where to fix it when the message does not say."""
    if message.startswith("DATABASE_URL") or "HELPDESK_" in message:
        return message
    if ".yml" in message or ".yaml" in message:
        return f"{message} (fix the file; helpdesk.example.yml shows every key)"
    return message


def _file_error(exc: OSError) -> str:
    what = {
        FileNotFoundError: "is missing",
        PermissionError: "cannot be read (permission denied)",
        IsADirectoryError: "is a folder, not a file",
        NotADirectoryError: "is not a folder",
    }.get(type(exc), "cannot be read")
    path = str(exc.filename or "a file")
    setting = _setting_naming(path)
    where = f"check {setting}" if setting else "check the path"
    return f"{path} {what}; {where}"


def _setting_naming(path: str) -> str | None:
    """The setting whose folder holds ``path``, so the sentence says what to change."""
    from pathlib import Path

    from bot.config import Settings

    try:
        settings = Settings()
    except Exception:  # the settings themselves are broken: nothing to match against
        return None
    folders = {
        "HELPDESK_DATASETS_DIR": settings.datasets_dir,
        "HELPDESK_NLU_DATA": settings.topic_nlu_data,
        "HELPDESK_DATA_DIR": settings.data_dir,
    }
    target = Path(path).absolute()
    for name, folder in folders.items():
        if target.is_relative_to(Path(folder).absolute()):
            return f"{name} ({folder})"
    return None
