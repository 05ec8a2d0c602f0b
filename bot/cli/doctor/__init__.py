"""``helpdesk doctor``: checks everything a deployment needs — settings and helpdesk.yml, the
database and its schema, the model and knowledge index, and per configured platform the token,
its scopes / intents / permissions and the bot's place in each agent channel — and says, for
each problem, how to fix it. Exit code 0 when nothing failed (warnings allowed), 1 otherwise.

It only reads: nothing is created, migrated, trained or sent. Secrets never appear in its output.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer

EXIT_PROBLEMS = 1


def doctor(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Check the deployment (settings, database, model, platforms) and say how to fix each
    problem. Exits 1 when a check failed."""
    from bot.cli.doctor.examination import examine
    from bot.cli.doctor.findings import healthy

    findings = asyncio.run(examine())
    passed = healthy(findings)
    if as_json:
        typer.echo(
            json.dumps(
                {"ok": passed, "checks": [finding.as_json() for finding in findings]},
                indent=2,
                ensure_ascii=False,
            )
        )
    else:
        from bot.cli.doctor.report import show

        show(findings)
    if not passed:
        raise typer.Exit(EXIT_PROBLEMS)
