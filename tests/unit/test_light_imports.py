"""Importing the bot and building its command line must not pull in torch (or faiss): the CLI
answers instantly and light processes (web, scheduler) stay small."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_bot_and_its_cli_loads_no_ml_libraries() -> None:
    code = (
        "import sys, bot, bot.cli, bot.bootstrap, bot.web; "
        "heavy = sorted(m for m in ('torch', 'faiss', 'sentence_transformers', 'sklearn') "
        "if m in sys.modules); print(','.join(heavy))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_helpdesk_help_lists_the_commands() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--help"], capture_output=True, text=True, check=True
    )
    for command in ("chat", "run", "cases", "kb", "nlu", "db", "config"):
        assert command in done.stdout
