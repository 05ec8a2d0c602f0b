"""``helpdesk cases list|show N``: read cases from the configured database."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import typer

from bot.cli.boundary import CommandGroup

app = typer.Typer(help="List and read cases.", no_args_is_help=True, cls=CommandGroup)


@app.command("list")
def list_cases(
    status: Annotated[
        str | None,
        typer.Option(help="Only cases with this status: new, open, pending, resolved or closed."),
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List cases, newest first."""
    from bot.cases.transcript import CaseStatus

    statuses = [s.value for s in CaseStatus]
    if status is not None and status.lower() not in statuses:
        raise typer.BadParameter(
            f"{status!r} is not a case status; use one of {', '.join(statuses)}",
            param_hint="--status",
        )
    rows = asyncio.run(_list(status.lower() if status else None, limit))
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo("No cases.")
    for row in rows:
        who = f" · {row['assignee']}" if row["assignee"] else ""
        typer.echo(f"#{row['number']} [{row['status']}{who}] {row['priority']} {row['subject']}")


@app.command("show")
def show_case(
    number: int,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Show one case with its whole transcript."""
    data = asyncio.run(_show(number))
    if data is None:
        typer.echo(f"There is no case #{number}.", err=True)
        raise typer.Exit(1)
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    typer.echo(f"Case #{data['number']}: {data['subject']}")
    typer.echo(f"Status: {data['status']} · Priority: {data['priority']} · Queue: {data['queue']}")
    typer.echo(f"Customer: {data['customer']} ({data['origin_platform']})")
    if data["assignee"]:
        typer.echo(f"Assignee: {data['assignee']}")
    typer.echo("")
    for event in data["transcript"]:
        when = event["at"][:16].replace("T", " ")
        typer.echo(f"{when}  {event['kind']:<16} {event['author']}: {event['body']}")


def _case_dict(case: Any, customer_name: str) -> dict[str, Any]:
    def iso(value: Any) -> str | None:
        return value.isoformat() if value else None

    return {
        "number": case.id,
        "subject": case.subject,
        "status": case.status,
        "priority": case.priority,
        "queue": case.queue,
        "intent": case.intent,
        "tags": list(case.tags or []),
        "origin_platform": case.origin_platform,
        "customer": customer_name,
        "assignee": case.assignee_name,
        "created_at": iso(case.created_at),
        "first_response_at": iso(case.first_response_at),
        "resolved_at": iso(case.resolved_at),
        "closed_at": iso(case.closed_at),
        "csat": case.csat,
    }


async def _list(status: str | None, limit: int) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from bot.cli.database import open_database
    from bot.storage.models import Case, Customer

    async with open_database() as sessions, sessions() as session:
        query = (
            select(Case, Customer.display_name)
            .join(Customer, Customer.id == Case.customer_id)
            .order_by(Case.id.desc())
            .limit(limit)
        )
        if status:
            query = query.where(Case.status == status)
        return [_case_dict(case, name) for case, name in (await session.execute(query)).all()]


async def _show(number: int) -> dict[str, Any] | None:
    from sqlalchemy import select

    from bot.cli.database import open_database
    from bot.storage.models import Case, CaseEvent, Customer

    async with open_database() as sessions, sessions() as session:
        case = await session.get(Case, number)
        if case is None:
            return None
        customer = await session.get(Customer, case.customer_id)
        data = _case_dict(case, customer.display_name if customer else "")
        events = await session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == number).order_by(CaseEvent.id)
        )
        data["transcript"] = [
            {
                "at": e.created_at.isoformat(),
                "kind": e.kind,
                "author": e.author_name or e.author,
                "body": e.body,
            }
            for e in events
        ]
        return data
