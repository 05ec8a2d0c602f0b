"""``helpdesk digest --now``: the manager digest for a period, printed (or as JSON), with its
chart written to a PNG file. The scheduler posts the same digest to the managers' channel;
``--as-of`` the time it was posted reproduces it. ``--explain`` prints what each figure counts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from bot.config import DeskConfig
    from bot.reports.digest import Digest
    from bot.reports.gaps import Encoder


def digest(
    now: Annotated[bool, typer.Option("--now", help="Build the digest now and print it.")] = False,
    period: Annotated[
        str, typer.Option("--period", help="day, week or month.", case_sensitive=False)
    ] = "day",
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="ISO time to report as of (default: now). Naive is UTC."),
    ] = None,
    to_date: Annotated[
        bool,
        typer.Option("--to-date", help="The current period so far, not the last complete one."),
    ] = False,
    chart: Annotated[
        Path | None,
        typer.Option("--chart", help="Where to write the chart PNG (default: data/digests/)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    explain: Annotated[
        bool, typer.Option("--explain", help="Print what each figure counts, and exit.")
    ] = False,
) -> None:
    """Print the manager digest: by default the last complete day / ISO week / month, as the
    scheduled digest covers it."""
    import asyncio

    from bot.config import Settings, load_desk_config
    from bot.reports.digest import PERIODS, window

    if explain:
        from bot.reports.definitions import explain as definitions

        typer.echo(definitions())
        return
    if not now:
        typer.echo("Nothing to do: add --now to build the digest (see --help).", err=True)
        raise typer.Exit(2)
    period = period.lower()
    if period not in PERIODS:
        typer.echo(f"--period must be one of {', '.join(PERIODS)}", err=True)
        raise typer.Exit(2)
    try:
        moment = _parse_time(as_of) if as_of else datetime.now(UTC)
    except ValueError as exc:
        typer.echo(f"--as-of: {exc}", err=True)
        raise typer.Exit(2) from exc
    settings = Settings()
    # an invalid file: the CLI's boundary says so
    desk = load_desk_config(settings.desk_config_file)
    timezone = desk.digest_timezone
    if chart is None:
        key = window(period, moment, timezone, complete=not to_date).key
        chart = settings.data_dir / "digests" / f"digest-{period}-{key}.png"
    result = asyncio.run(_build(period, moment, desk, not to_date, chart))
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
    else:
        typer.echo(result.text)
        typer.echo(f"Chart: {result.chart}")


def _gaps_encoder() -> Encoder:
    """The weekly digest's knowledge gaps group by the encoder the bot serves with."""
    from bot.cli.kb_gaps import served_encoder

    return served_encoder()


def _parse_time(text: str) -> datetime:
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


async def _build(
    period: str, as_of: datetime, desk: DeskConfig, complete: bool, chart: Path
) -> Digest:
    from bot.cli.database import open_database
    from bot.clock import FrozenClock
    from bot.escalation.sla_clock import CaseSlaClock
    from bot.reports.digest import build_digest
    from bot.storage.uow import UnitOfWork

    async with open_database() as sessions, UnitOfWork(sessions, FrozenClock(as_of)) as uow:
        result = await build_digest(
            uow,
            period,
            as_of,
            desk.digest_timezone,
            sla=CaseSlaClock.of(desk),
            complete=complete,
            chart_path=chart,
            gaps_encoder=_gaps_encoder() if complete and period == "week" else None,
        )
    return result
