"""Settings from the environment: a bad value is named, without a traceback (and a bug keeps
its traceback); the search weight the bot uses by default is the one the benchmarks chose."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.cli.boundary import explain
from bot.cli.chat import default_customer_name
from bot.config import Settings
from bot.errors import ConfigError, DatabaseUnavailable
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


def test_the_log_level_is_one_of_loggings_own_names() -> None:
    assert Settings(HELPDESK_LOG_LEVEL="debug").log_level == "DEBUG"
    with pytest.raises(ValidationError, match="DEBUG, INFO, WARNING, ERROR, CRITICAL"):
        Settings(HELPDESK_LOG_LEVEL="LOUD")


def test_a_config_path_given_on_purpose_must_exist(tmp_path: Path) -> None:
    desk = tmp_path / "desk.yml"
    desk.write_text("")
    assert Settings(HELPDESK_CONFIG=desk).config_file == desk
    with pytest.raises(ValidationError, match=r"HELPDESK_CONFIG: .*nope\.yml does not exist"):
        Settings(HELPDESK_CONFIG=tmp_path / "nope.yml")
    assert Settings().config_file == Path("helpdesk.yml")  # the default may be absent


def test_a_data_directory_brings_its_own_helpdesk_yml_and_topics(tmp_path: Path) -> None:
    from bot.config import DIALOG_NLU_DATA

    bare = Settings(HELPDESK_DATA_DIR=tmp_path)
    assert bare.desk_config_file == Path("helpdesk.yml")  # none there: ./helpdesk.yml
    assert bare.nlu_sources == [DIALOG_NLU_DATA]  # no topics: the dialog's intents alone
    (tmp_path / "helpdesk.yml").write_text("business: {name: Spoke}\n")
    (tmp_path / "nlu").mkdir()
    (tmp_path / "nlu" / "README.md").write_text("how to add intents")
    assert Settings(HELPDESK_DATA_DIR=tmp_path).nlu_sources == [DIALOG_NLU_DATA]
    (tmp_path / "nlu" / "topics.yml").write_text("version: '3.1'\n")

    own = Settings(HELPDESK_DATA_DIR=tmp_path)
    assert own.desk_config_file == tmp_path / "helpdesk.yml"
    assert own.nlu_sources == [DIALOG_NLU_DATA, tmp_path / "nlu"]
    chosen = tmp_path / "other.yml"
    chosen.write_text("")
    assert Settings(HELPDESK_DATA_DIR=tmp_path, HELPDESK_CONFIG=chosen).desk_config_file == chosen


def test_only_failures_a_person_can_fix_lose_their_traceback() -> None:
    assert explain(RuntimeError("a bug")) is None
    assert explain(KeyError("x")) is None
    assert explain(ConfigError("helpdesk.yml: queus: Extra inputs are not permitted")) == [
        "configuration error: helpdesk.yml: queus: Extra inputs are not permitted "
        "(fix the file; helpdesk.example.yml shows every key)"
    ]
    missing = FileNotFoundError(2, "No such file or directory", "/srv/articles/a.md")
    assert explain(missing) == ["/srv/articles/a.md is missing; check the path"]
    assert explain(ExceptionGroup("task group", [DatabaseUnavailable("cannot open …")])) == [
        "cannot open …"
    ]


def test_the_terminal_customer_has_a_persons_name() -> None:
    name = default_customer_name()
    assert name not in ("You", "Customer", "Root", "")
    assert name[0].isupper() and name.replace("-", "").isalpha()
