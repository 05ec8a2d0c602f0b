"""The doctor's findings for a person: grouped by area, one line each, the fix under it."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape

from bot.cli.doctor.findings import Finding, Status

MARKS = {
    Status.OK: "[green]✓[/green]",
    Status.WARN: "[yellow]![/yellow]",
    Status.FAIL: "[red]✗[/red]",
    Status.SKIP: "[dim]–[/dim]",
}


def show(findings: Sequence[Finding], console: Console | None = None) -> None:
    console = console or Console(highlight=False, soft_wrap=True)
    area = None
    for finding in findings:
        if finding.area != area:
            area = finding.area
            console.print(f"\n[bold]{escape(area)}[/bold]")
        console.print(
            f"  {MARKS[finding.status]} {escape(finding.check)}: {escape(finding.detail)}"
        )
        if finding.fix and finding.status in (Status.FAIL, Status.WARN):
            console.print(f"      [cyan]→ {escape(finding.fix)}[/cyan]")
    console.print()
    console.print(summary(findings))


def summary(findings: Sequence[Finding]) -> str:
    failed = sum(f.status is Status.FAIL for f in findings)
    warned = sum(f.status is Status.WARN for f in findings)
    if failed:
        return f"[red]{failed} problem(s) to fix[/red], {warned} warning(s)"
    if warned:
        return f"[green]ready[/green], with {warned} warning(s)"
    return "[green]ready: every check passed[/green]"
