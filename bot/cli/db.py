"""``helpdesk db``: schema migrations for the configured database (``DATABASE_URL``, or the SQLite
file in the data directory)."""

from __future__ import annotations

import json

import typer

app = typer.Typer(help="Database maintenance.", no_args_is_help=True)


def _display(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is reported by the migration itself
        return "<database>"


def _fail(target: str, exc: Exception) -> typer.Exit:
    typer.echo(f"error: {_display(target)}: {exc}", err=True)
    return typer.Exit(2 if exc.__class__.__name__ == "ConfigError" else 1)


def _configured_url(url: str | None) -> str:
    if url:
        return url
    from bot.config import Settings

    return Settings().effective_database_url


@app.command()
def upgrade(
    url: str | None = typer.Option(
        None, "--url", help="Database URL (default: DATABASE_URL, else data/helpdesk.db)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON object."),
) -> None:
    """Bring the database schema to the newest revision (safe to run again)."""
    import asyncio

    from sqlalchemy.exc import SQLAlchemyError

    from bot.errors import ConfigError
    from bot.storage.migrate import current_revision, upgrade_database

    target = _configured_url(url)
    try:
        before = asyncio.run(current_revision(target))
        asyncio.run(upgrade_database(target))
        after = asyncio.run(current_revision(target))
    except (ConfigError, SQLAlchemyError, OSError) as exc:
        raise _fail(target, exc) from exc
    if as_json:
        typer.echo(json.dumps({"database": _display(target), "from": before, "revision": after}))
    elif before == after:
        typer.echo(f"{_display(target)}: already at revision {after}")
    else:
        typer.echo(f"{_display(target)}: upgraded {before or '(empty)'} -> revision {after}")


@app.command()
def current(
    url: str | None = typer.Option(
        None, "--url", help="Database URL (default: DATABASE_URL, else data/helpdesk.db)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON object."),
) -> None:
    """Print the revision the database is at and the newest one the code ships."""
    import asyncio

    from sqlalchemy.exc import SQLAlchemyError

    from bot.errors import ConfigError
    from bot.storage.migrate import current_revision, head_revision

    target = _configured_url(url)
    try:
        revision = asyncio.run(current_revision(target))
    except (ConfigError, SQLAlchemyError, OSError) as exc:
        raise _fail(target, exc) from exc
    head = head_revision()
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "database": _display(target),
                    "revision": revision,
                    "head": head,
                    "up_to_date": revision == head,
                }
            )
        )
        return
    state = "up to date" if revision == head else f"behind head {head}: run 'helpdesk db upgrade'"
    typer.echo(f"{_display(target)}: revision {revision or '(none)'} ({state})")
