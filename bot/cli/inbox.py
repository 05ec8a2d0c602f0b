"""``helpdesk inbox list|retry``: see inbounds that failed or wait for a retry, and requeue
failed ones (a running ``helpdesk run`` picks them up within its next pass)."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import typer

app = typer.Typer(
    help="See and requeue inbound messages that were not handled.", no_args_is_help=True
)

Status = Annotated[
    str | None, typer.Option(help="pending, processing, done or failed (default: not done).")
]
Platform = Annotated[str | None, typer.Option(help="Only this platform (slack, telegram…).")]
Conversation = Annotated[
    str | None, typer.Option(help="Only this conversation (e.g. telegram:42).")
]
AsJson = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


@app.command("list")
def list_inbox(
    status: Status = None,
    platform: Platform = None,
    conversation: Conversation = None,
    limit: Annotated[int, typer.Option(help="At most this many, oldest first.")] = 100,
    as_json: AsJson = False,
) -> None:
    """List inbounds not handled yet or failed for good, with their error and attempts."""
    from bot.storage.inbox import InboxFilter, listing

    which = InboxFilter(status=status, platform=platform, conversation=conversation)
    rows: list[dict[str, Any]] = asyncio.run(_with_sessions(lambda s: listing(s, which, limit)))
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo("Nothing waiting or failed in the inbox.")
    for row in rows:
        typer.echo(
            f"{row['id']:>6} [{row['status']}] {row['conversation']} "
            f"attempts={row['attempts']} {row['text']!r}"
        )
        if row["error"]:
            typer.echo(f"       error: {row['error']}")


@app.command("retry")
def retry_inbox(
    ids: Annotated[
        list[int] | None, typer.Argument(help="Row ids (default: all matching).")
    ] = None,
    platform: Platform = None,
    conversation: Conversation = None,
    as_json: AsJson = False,
) -> None:
    """Requeue failed inbounds: the given ids, or every failed one matching the filters."""
    from bot.storage.inbox import InboxFilter, requeue

    which = InboxFilter(platform=platform, conversation=conversation, ids=tuple(ids or ()))
    count: int = asyncio.run(_with_sessions(lambda s: requeue(s, which)))
    if as_json:
        typer.echo(json.dumps({"requeued": count}))
    else:
        typer.echo(f"Requeued {count} failed inbound{'s' if count != 1 else ''}.")


async def _with_sessions(work: Any) -> Any:
    from bot.cli.database import open_database

    async with open_database() as sessions:
        return await work(sessions)
