"""Settings from the environment: a bad value is named, without a traceback; the search
weight the bot uses by default is the one the benchmarks chose."""

from __future__ import annotations

import os
import subprocess
import sys

from bot.config import Settings
from bot.knowledge.search import Fusion


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )


def test_a_setting_that_does_not_parse_is_named_and_exits_2() -> None:
    result = run_cli("config", "show", PORT="eighty", SEARCH_LEXICAL_WEIGHT="-1")

    assert result.returncode == 2
    assert "configuration error: PORT" in result.stderr
    assert "configuration error: SEARCH_LEXICAL_WEIGHT" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_search_weight_defaults_to_the_benchmarks_choice() -> None:
    assert Settings().search_lexical_weight == Fusion().lexical_weight
    assert Settings(SEARCH_LEXICAL_WEIGHT="0.5").search_lexical_weight == 0.5
