"""``helpdesk db``: schema migrations, the demo history, and backups (SQLite's online backup;
PostgreSQL is pointed to ``pg_dump``) for the configured database (``DATABASE_URL``, or the
SQLite file in the data directory)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from bot.cli.boundary import CommandGroup

app = typer.Typer(help="Database maintenance.", no_args_is_help=True, cls=CommandGroup)


def display_url(url: str) -> str:
    from bot.cli.database import display_url as without_password

    return without_password(url)


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

    from bot.cli.database import database_errors, ready_database
    from bot.storage.migrate import current_revision

    target = _configured_url(url)
    with database_errors(target):
        before = asyncio.run(current_revision(target))
        asyncio.run(ready_database(target))
        after = asyncio.run(current_revision(target))
    if as_json:
        typer.echo(json.dumps({"database": display_url(target), "from": before, "revision": after}))
    elif before == after:
        typer.echo(f"{display_url(target)}: already at revision {after}")
    else:
        typer.echo(f"{display_url(target)}: upgraded {before or '(empty)'} -> revision {after}")


@app.command()
def current(
    url: str | None = typer.Option(
        None, "--url", help="Database URL (default: DATABASE_URL, else data/helpdesk.db)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON object."),
) -> None:
    """Print the revision the database is at and the newest one the code ships."""
    import asyncio

    from bot.cli.database import database_errors
    from bot.storage.migrate import current_revision, head_revision

    target = _configured_url(url)
    with database_errors(target):
        revision = asyncio.run(current_revision(target))
    head = head_revision()
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "database": display_url(target),
                    "revision": revision,
                    "head": head,
                    "up_to_date": revision == head,
                }
            )
        )
        return
    state = "up to date" if revision == head else f"behind head {head}: run 'helpdesk db upgrade'"
    typer.echo(f"{display_url(target)}: revision {revision or '(none)'} ({state})")


@app.command()
def seed(
    demo: bool = typer.Option(False, "--demo", help="Fill the database with a demo history."),
    seed_value: int = typer.Option(7, "--seed", help="Random seed: same seed, same history."),
    until: str | None = typer.Option(
        None, "--until", help="ISO time the history ends (default: today 00:00 UTC)."
    ),
    weeks: int = typer.Option(8, "--weeks", min=1, max=104, help="How many weeks of history."),
    url: str | None = typer.Option(
        None, "--url", help="Database URL (default: DATABASE_URL, else data/helpdesk.db)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON object."),
) -> None:
    """Fill an empty database with a realistic, reproducible history (for digests, stats and
    demos): a few hundred cases over eight weeks, with claims, replies, CSAT and feedback."""
    import asyncio
    from datetime import UTC, datetime

    if not demo:
        typer.echo("Nothing to do: 'helpdesk db seed --demo' writes the demo history.", err=True)
        raise typer.Exit(2)
    try:
        end = datetime.fromisoformat(until) if until else None
    except ValueError as exc:
        typer.echo(f"--until: {exc}", err=True)
        raise typer.Exit(2) from exc
    if end is None:
        end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    elif end.tzinfo is None:
        end = end.replace(tzinfo=UTC)
    target = _configured_url(url)
    summary = asyncio.run(_seed_demo(target, end, seed_value, weeks))
    if summary is None:
        typer.echo(f"{display_url(target)}: already has cases; seed an empty database.", err=True)
        raise typer.Exit(1)
    if as_json:
        typer.echo(json.dumps({"database": display_url(target), **summary}))
    else:
        typer.echo(
            f"{display_url(target)}: {summary['cases']} cases, {summary['feedback']} answer "
            f"feedback rows, {summary['customers']} customers "
            f"({str(summary['start'])[:10]} – {str(summary['until'])[:10]}, seed {seed_value})"
        )


async def _seed_demo(
    url: str, until: object, seed_value: int, weeks: int
) -> dict[str, object] | None:
    from datetime import datetime

    from sqlalchemy import func, select

    from bot.cli.database import ready_database
    from bot.clock import FrozenClock
    from bot.config import Settings, load_desk_config
    from bot.escalation import sla
    from bot.escalation.calendar import BusinessCalendar
    from bot.reports.seed import seed_demo
    from bot.storage.db import create_engine, session_factory
    from bot.storage.models import Case
    from bot.storage.uow import UnitOfWork

    assert isinstance(until, datetime)
    desk = load_desk_config(Settings().desk_config_file)
    calendar = BusinessCalendar.from_config(desk.business_hours)
    await ready_database(url)
    engine = create_engine(url)
    try:
        async with UnitOfWork(session_factory(engine), FrozenClock(until)) as uow:
            if await uow.session.scalar(select(func.count()).select_from(Case)):
                return None
            summary = await seed_demo(
                uow,
                until=until,
                seed=seed_value,
                weeks=weeks,
                due_times=lambda case: sla.start_clock(case, desk.sla, calendar, case.created_at),
            )
            await uow.commit()
    finally:
        await engine.dispose()
    return {
        "customers": summary.customers,
        "cases": summary.cases,
        "feedback": summary.feedback,
        "start": summary.start.isoformat(),
        "until": summary.until.isoformat(),
        "seed": seed_value,
    }


@app.command("backup")
def backup_command(
    path: Annotated[Path, typer.Argument(help="The new file to write the backup to.")],
    url: str | None = typer.Option(
        None, "--url", help="Database URL (default: DATABASE_URL, else data/helpdesk.db)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON object."),
) -> None:
    """Copy the SQLite database to PATH while the desk keeps running (SQLite's online backup).
    For PostgreSQL, prints the pg_dump way."""
    from bot.storage import backup

    target = _configured_url(url)
    try:
        database = backup.sqlite_path(target)
        backup.backup(database, path)
    except backup.BackupRefused as refused:
        typer.echo(str(refused), err=True)
        raise typer.Exit(2) from refused
    size = path.stat().st_size
    if as_json:
        typer.echo(json.dumps({"database": str(database), "backup": str(path), "bytes": size}))
    else:
        typer.echo(f"{database}: backed up to {path} ({size} bytes)")


@app.command("restore")
def restore_command(
    path: Annotated[Path, typer.Argument(help="A backup written by 'helpdesk db backup'.")],
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
    url: str | None = typer.Option(
        None, "--url", help="Database URL (default: DATABASE_URL, else data/helpdesk.db)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON object."),
) -> None:
    """Replace the SQLite database's contents with the backup at PATH, then bring its schema up
    to date. Stop the desk first. For PostgreSQL, prints the pg_restore way."""
    import asyncio

    from bot.cli.database import ready_database
    from bot.storage import backup
    from bot.storage.migrate import current_revision

    target = _configured_url(url)
    try:
        database = backup.sqlite_path(target)
        backup.check_backup(path)
        if not yes and not typer.confirm(
            f"Replace everything in {database} with {path}? Stop the desk first.", err=True
        ):
            raise typer.Exit(1)
        restored_at = backup.restore(path, database)
    except backup.BackupRefused as refused:
        typer.echo(str(refused), err=True)
        raise typer.Exit(2) from refused
    asyncio.run(ready_database(target))
    revision = asyncio.run(current_revision(target))
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "database": str(database),
                    "backup": str(path),
                    "from": restored_at,
                    "revision": revision,
                }
            )
        )
    else:
        upgraded = "" if restored_at == revision else f", upgraded {restored_at} -> {revision}"
        typer.echo(f"{database}: restored from {path} (revision {revision}{upgraded})")
