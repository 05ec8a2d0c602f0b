"""``helpdesk customers export|erase``: a customer's right to their data, from the command line.

A customer is named by id (``helpdesk customers export 7``) or by one of their platform
identities (``--platform-user telegram:42``).
"""

from __future__ import annotations

import asyncio
import getpass
import json
from typing import Annotated, Any

import typer

from bot.cli.boundary import CommandGroup

app = typer.Typer(
    help="Export or erase what the help desk holds about a customer.",
    no_args_is_help=True,
    cls=CommandGroup,
)

CustomerId = Annotated[int | None, typer.Argument(help="The customer's id.", show_default=False)]
PlatformUser = Annotated[
    str | None,
    typer.Option(
        "--platform-user",
        help="The customer by a platform identity, PLATFORM:USER-ID (e.g. telegram:42).",
        show_default=False,
    ),
]


def _which(customer_id: int | None, platform_user: str | None) -> str:
    if (customer_id is None) == (platform_user is None):
        raise typer.BadParameter("name the customer by id or by --platform-user, one of them")
    if platform_user is not None and not all(platform_user.partition(":")[::2]):
        raise typer.BadParameter(
            f"{platform_user!r} is not PLATFORM:USER-ID (e.g. telegram:42)",
            param_hint="--platform-user",
        )
    return f"customer {customer_id}" if customer_id is not None else str(platform_user)


@app.command("export")
def export(customer_id: CustomerId = None, platform_user: PlatformUser = None) -> None:
    """Print everything held about a customer, as JSON.

    The customer, their identities and conversations, their cases with transcripts and ratings,
    their answer feedback, and the inbox and outbox rows that concern them."""
    who = _which(customer_id, platform_user)
    data = asyncio.run(_export(customer_id, platform_user))
    if data is None:
        typer.echo(f"There is no {who}.", err=True)
        raise typer.Exit(1)
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


@app.command("erase")
def erase(
    customer_id: CustomerId = None,
    platform_user: PlatformUser = None,
    force: Annotated[
        bool, typer.Option("--force", help="Erase even while an agent works one of their cases.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    by: Annotated[
        str | None,
        typer.Option(help="Who erases, for the audit entry (default: the system user name)."),
    ] = None,
) -> None:
    """Erase a customer's personal data.

    Their cases stay as anonymous counts for the metrics; an audit entry records who erased
    which customer id and when. A case an agent is working blocks it unless --force."""
    who = _which(customer_id, platform_user)
    if not yes:
        typer.confirm(
            f"Erase everything personal held about {who}? This cannot be undone", abort=True
        )
    operator = by or getpass.getuser()
    outcome = asyncio.run(_erase(customer_id, platform_user, operator, force))
    if outcome is None:
        typer.echo(f"There is no {who}.", err=True)
        raise typer.Exit(1)
    if isinstance(outcome, str):
        typer.echo(f"{outcome} (use --force)", err=True)
        raise typer.Exit(1)
    touched = ", ".join(f"{n} {name}" for name, n in outcome["counts"].items() if n)
    typer.echo(f"Erased customer {outcome['customer_id']}: {touched or 'nothing held'}.")


async def _export(customer_id: int | None, platform_user: str | None) -> dict[str, Any] | None:
    from bot.cases.footprint import find_customer, footprint_of
    from bot.cases.privacy_export import export_customer
    from bot.cli.database import open_database

    async with open_database() as sessions, sessions() as session:
        customer = await find_customer(session, customer_id, platform_user)
        if customer is None:
            return None
        return await export_customer(session, await footprint_of(session, customer))


async def _erase(
    customer_id: int | None, platform_user: str | None, operator: str, force: bool
) -> dict[str, Any] | str | None:
    from bot.cases.erasure import CaseBeingWorked, erase_customer
    from bot.cases.footprint import find_customer
    from bot.cli.database import open_database
    from bot.clock import SystemClock
    from bot.storage.uow import UnitOfWork

    async with open_database() as sessions, UnitOfWork(sessions, SystemClock()) as uow:
        customer = await find_customer(uow.session, customer_id, platform_user)
        if customer is None:
            return None
        try:
            erased = await erase_customer(uow, customer, by=f"cli:{operator}", force=force)
        except CaseBeingWorked as exc:
            return exc.safe_message
        await uow.commit()
        return {"customer_id": erased.customer_id, "counts": erased.counts}
