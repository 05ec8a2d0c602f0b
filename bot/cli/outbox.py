"""``helpdesk outbox list|retry|drop``: see what waits to go out or was given up on, send parked
messages again once their platform works, or give up on them for good (kept, marked)."""

from __future__ import annotations

import asyncio
import getpass
import json
from typing import Annotated, Any

import typer

app = typer.Typer(help="See, resend or drop outgoing messages.", no_args_is_help=True)

Platform = Annotated[str | None, typer.Option(help="Only this platform (telegram, slack…).")]
Conversation = Annotated[
    str | None, typer.Option(help="Only this conversation (as listed, e.g. telegram:42).")
]
AsJson = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
Ids = Annotated[list[int] | None, typer.Argument(help="Row ids (from 'outbox list').")]


@app.command("list")
def list_messages(
    status: Annotated[
        str | None, typer.Option(help="pending, sent, parked or dropped (default: all).")
    ] = None,
    platform: Platform = None,
    conversation: Conversation = None,
    limit: Annotated[int, typer.Option(help="At most this many, oldest first.")] = 100,
    as_json: AsJson = False,
) -> None:
    """List outgoing messages, oldest first."""
    from bot.storage.outbox import OutboxFilter

    which = OutboxFilter(status=status, platform=platform, conversation=conversation)
    rows = asyncio.run(_list(which, limit))
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo("No messages.")
    for row in rows:
        error = f" — {row['last_error']}" if row["last_error"] else ""
        typer.echo(
            f"#{row['id']} [{row['status']}] {row['conversation']} "
            f"attempts {row['attempts']}: {row['text'][:60]}{error}"
        )


@app.command("retry")
def retry(
    ids: Ids = None,
    platform: Platform = None,
    conversation: Conversation = None,
    as_json: AsJson = False,
) -> None:
    """Put parked messages back in line, due now, with a fresh retry budget (all parked ones
    unless narrowed down). Run it once the platform that failed works again."""
    from bot.storage.outbox import OutboxFilter, requeue_parked

    which = OutboxFilter(platform=platform, conversation=conversation, ids=ids or ())
    count = asyncio.run(_change(lambda s, now: requeue_parked(s, which, now)))
    _report(count, "requeued", as_json)


@app.command("drop")
def drop(
    ids: Ids = None,
    platform: Platform = None,
    conversation: Conversation = None,
    every: Annotated[bool, typer.Option("--all", help="Every parked message.")] = False,
    by: Annotated[str | None, typer.Option(help="Who drops them (default: you).")] = None,
    as_json: AsJson = False,
) -> None:
    """Give up on parked messages for good. They stay listed as dropped, with who and when."""
    from bot.storage.outbox import OutboxFilter, drop_parked

    if not (ids or platform or conversation or every):
        typer.echo(
            "Name the messages to drop (ids, --conversation, --platform) or --all.", err=True
        )
        raise typer.Exit(2)
    which = OutboxFilter(platform=platform, conversation=conversation, ids=ids or ())
    who = by or getpass.getuser()
    count = asyncio.run(_change(lambda s, now: drop_parked(s, which, now, who)))
    _report(count, "dropped", as_json)


def _report(count: int, verb: str, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps({verb: count}))
    else:
        typer.echo(f"{count} parked message{'' if count == 1 else 's'} {verb}.")


async def _list(which: Any, limit: int) -> list[dict[str, Any]]:
    from bot.cli.database import open_database
    from bot.storage.outbox import list_rows

    async with open_database() as sessions, sessions() as session:
        return [_row_dict(row) for row in await list_rows(session, which, limit)]


async def _change(change: Any) -> int:
    from bot.cli.database import open_database
    from bot.clock import SystemClock

    async with open_database() as sessions, sessions.begin() as session:
        count: int = await change(session, SystemClock().now())
        return count


def _row_dict(row: Any) -> dict[str, Any]:
    def iso(value: Any) -> str | None:
        return value.isoformat() if value else None

    notify = row.payload.get("notify") or {}
    return {
        "id": row.id,
        "status": row.status,
        "platform": row.platform,
        "conversation": row.conversation,
        "text": row.payload.get("text", ""),
        "attempts": row.attempts,
        "created_at": iso(row.created_at),
        "next_attempt_at": iso(row.next_attempt_at),
        "sent_at": iso(row.sent_at),
        "last_error": row.last_error,
        "for_case": _case_of(notify.get("thread_key")),
    }


def _case_of(thread_key: str | None) -> int | None:
    """ "case:12:post" → 12: an agent's reply (or other case message) to this customer."""
    parts = (thread_key or "").split(":")
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None
