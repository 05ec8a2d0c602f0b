"""``helpdesk bench`` refuses option combinations that mean nothing, before reading any data."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.bench import app


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["intents", "--dataset", "banking77", "--no-oos-data"], "--no-oos-data"),
        (["intents", "--dataset", "clinc150", "--shots", "10"], "--shots"),
        (["intents", "--dataset", "clinc150", "--dev"], "--dev"),
        (["intents", "--dataset", "banking77", "--seeds", "5"], "--seeds"),
        (["intents", "--dataset", "clinc150", "--background"], "--background"),
    ],
)
def test_options_of_another_data_set_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], named: str
) -> None:
    monkeypatch.setenv("HELPDESK_DATASETS_DIR", str(tmp_path))  # empty: nothing would load

    result = CliRunner().invoke(app, args)

    assert result.exit_code == 2
    assert named in result.output
    assert "HELPDESK_DATASETS_DIR" not in result.output  # refused before looking for data


def test_the_oos_proxy_names_both_data_sets_it_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HELPDESK_DATASETS_DIR", str(tmp_path))

    result = CliRunner().invoke(app, ["oos-proxy"])

    assert result.exit_code != 0
    message = str(result.exception) + result.output
    assert "banking77/" in message and "clinc150/" in message
