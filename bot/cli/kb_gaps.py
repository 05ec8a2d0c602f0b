"""``helpdesk kb gaps``: the knowledge gaps of a period, ranked — what customers asked that no
article answered, answers said not to help, requests that became cases — grouped by meaning
with the bot's own encoder, each with its count in the period of the same length before."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from bot.reports.gaps import Encoder, Gap


def gaps(
    since: Annotated[
        str | None,
        typer.Option(help="Start of the period: an ISO date or time (UTC unless it says)."),
    ] = None,
    until: Annotated[str | None, typer.Option(help="End of the period (default: now).")] = None,
    days: Annotated[
        int, typer.Option(min=1, max=366, help="The period's length when --since is not given.")
    ] = 30,
    limit: Annotated[int, typer.Option(min=1, max=100, help="How many gaps to show.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The knowledge gaps of the period, largest first, with their trend."""
    from bot.cli.kb import _run
    from bot.reports.gap_text import gap_list
    from bot.reports.gaps import top_gaps

    end = _moment(until, "--until") if until else datetime.now(UTC)
    start = _moment(since, "--since") if since else end - timedelta(days=days)
    if start >= end:
        raise typer.BadParameter("must be before --until", param_hint="--since")
    encoder = served_encoder()

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[Gap]:
        async with sessions() as session:
            return await top_gaps(session, since=start, until=end, limit=limit, encoder=encoder)

    found = _run(work)
    if as_json:
        document = {
            "since": start.isoformat(),
            "until": end.isoformat(),
            "gaps": [g.to_dict() for g in found],
        }
        typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    typer.echo(f"Knowledge gaps {start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M} UTC")
    for line in gap_list(found) or ["none: every question was answered or understood"]:
        typer.echo(line)


def _moment(text: str, option: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        message = f"'{text}' is not a date or time (try 2026-11-01)"
        raise typer.BadParameter(message, param_hint=option) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def served_encoder() -> Encoder:
    """The encoder the bot serves with (``HELPDESK_ENCODER``: its ONNX export, or torch)."""
    from bot.cli.kb import _settings
    from nlu.encoder_choice import select_embedder

    settings = _settings()
    return select_embedder(settings.encoder_dir, settings.encoder)
