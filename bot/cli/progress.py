"""Progress for long first-run steps: a rich bar on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

# progress(label, done, total)
ProgressFn = Callable[[str, int, int], None]


@contextmanager
def progress_reporter(quiet: bool = False, *, lines: bool = False) -> Iterator[ProgressFn]:
    """``lines``: plain lines even on a terminal (a live bar would fight a prompt waiting for
    input beside it)."""
    if quiet:
        yield lambda label, done, total: None
        return
    if sys.stderr.isatty() and not lines:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), transient=True
        ) as bar:
            tasks: dict[str, Any] = {}

            def update(label: str, done: int, total: int) -> None:
                if label not in tasks:
                    tasks[label] = bar.add_task(label, total=total or 1)
                bar.update(tasks[label], completed=done, total=total or 1)

            yield update
        return

    last: dict[str, int] = {}

    def plain(label: str, done: int, total: int) -> None:
        # at most ~10 lines per step: start, every 10%, end
        step = max(1, total // 10)
        due = done in (0, total) or done - last.get(label, -step) >= step
        if due and last.get(label) != done:
            print(f"{label}: {done}/{total}", file=sys.stderr, flush=True)
            last[label] = done

    yield plain
