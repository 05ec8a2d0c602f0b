"""Every command group, given a broken setting, file or database, says so in one sentence that
names what to fix — no traceback — and exits 2. Run as the real ``helpdesk`` process, since the
boundary sits around the whole command line."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest


def helpdesk(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "HELPDESK_CONFIG")}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # no helpdesk.yml or .env of the checkout
        env={**base, "HELPDESK_DATA_DIR": str(tmp_path / "data"), **env},
        timeout=120,
        check=False,
    )


def assert_one_sentence(result: subprocess.CompletedProcess[str], *names: str) -> None:
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert 1 <= len(lines) <= 3, result.stderr
    for name in names:
        assert name in result.stderr, result.stderr


@pytest.fixture
def bad_yml(tmp_path: Path) -> str:
    path = tmp_path / "desk.yml"
    path.write_text("queues:\n  - name: default\n    channel: terminal:agents\nqueus: []\n")
    return str(path)


@pytest.fixture
def closed_port() -> str:
    """A PostgreSQL URL on a local port nobody listens on: the server is "down"."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"postgresql://postgres:secret@127.0.0.1:{port}/helpdesk"


@pytest.fixture
def future_database(tmp_path: Path) -> str:
    """A SQLite database migrated by a newer release than this one."""
    path = tmp_path / "future.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        connection.execute("INSERT INTO alembic_version VALUES ('9999')")
    return f"sqlite:///{path}"


# --- chat, run, digest, config: the desk file -----------------------------------------------


@pytest.mark.parametrize(
    "command",
    [("chat",), ("run",), ("digest", "--now"), ("config", "show")],
    ids=lambda c: c[0],
)
def test_an_unknown_key_in_helpdesk_yml_is_named(
    tmp_path: Path, bad_yml: str, command: tuple[str, ...]
) -> None:
    result = helpdesk(tmp_path, *command, HELPDESK_CONFIG=bad_yml, SLACK_BOT_TOKEN="xoxb-1")
    assert_one_sentence(result, "desk.yml", "queus")


@pytest.mark.parametrize("command", [("chat", "--quiet"), ("config", "show")], ids=" ".join)
def test_a_mistake_in_the_businesss_replies_is_named_by_key(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "replies.yml").write_text("case_opened: Your case is open.\n")
    result = helpdesk(tmp_path, *command)
    assert_one_sentence(result, "replies.yml", "case_opened", "{number}")


def test_a_mistyped_config_path_is_named_not_ignored(tmp_path: Path) -> None:
    result = helpdesk(tmp_path, "config", "show", HELPDESK_CONFIG="helpdesk.ymll")
    assert_one_sentence(result, "HELPDESK_CONFIG", "helpdesk.ymll")


def test_an_unknown_log_level_is_refused_with_the_allowed_ones(tmp_path: Path) -> None:
    result = helpdesk(tmp_path, "cases", "list", HELPDESK_LOG_LEVEL="LOUD")
    assert_one_sentence(result, "HELPDESK_LOG_LEVEL", "LOUD", "DEBUG", "WARNING")


# --- the database ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ("chat",),
        ("run",),
        ("actions",),
        ("cases", "list"),
        ("customers", "export", "1"),
        ("customers", "erase", "1", "--yes"),
        ("kb", "list"),
        ("digest", "--now"),
        ("db", "current"),
        ("db", "upgrade"),
    ],
    ids=" ".join,
)
def test_a_database_that_is_down_is_named(
    tmp_path: Path, closed_port: str, command: tuple[str, ...]
) -> None:
    result = helpdesk(tmp_path, *command, DATABASE_URL=closed_port, SLACK_BOT_TOKEN="xoxb-1")
    assert_one_sentence(result, "DATABASE_URL", "127.0.0.1", "connection refused")
    assert "secret" not in result.stderr  # the password never shows


@pytest.mark.parametrize("url", ["nonsense", "postgres://", "postgresql://u@host:port/x"])
def test_a_database_url_that_is_no_url_is_named(tmp_path: Path, url: str) -> None:
    assert_one_sentence(helpdesk(tmp_path, "cases", "list", DATABASE_URL=url), "DATABASE_URL")


def test_a_database_from_a_newer_release_is_named(tmp_path: Path, future_database: str) -> None:
    result = helpdesk(tmp_path, "cases", "show", "1", DATABASE_URL=future_database)
    assert_one_sentence(result, "future.db", "9999", "DATABASE_URL")


def test_a_sqlite_file_that_cannot_be_created_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    result = helpdesk(tmp_path, "kb", "list", DATABASE_URL=f"sqlite:///{blocker}/helpdesk.db")
    assert_one_sentence(result, "not-a-folder", "DATABASE_URL")


# --- nlu, bench: files and folders ------------------------------------------------------------


@pytest.mark.parametrize("command", [("nlu", "train"), ("chat", "--quiet")], ids=" ".join)
def test_missing_intent_data_is_named(tmp_path: Path, command: tuple[str, ...]) -> None:
    result = helpdesk(tmp_path, *command, HELPDESK_NLU_DATA=str(tmp_path / "no-nlu"))
    assert_one_sentence(result, "no-nlu", "HELPDESK_NLU_DATA")


def test_a_missing_folder_of_articles_is_named(tmp_path: Path) -> None:
    result = helpdesk(tmp_path, "kb", "import", str(tmp_path / "no-articles"))
    assert_one_sentence(result, "no-articles", "missing")


@pytest.mark.parametrize(
    "command",
    [
        ("floors",),
        ("intents", "--dataset", "banking77"),
        ("intents", "--dataset", "clinc150", "--no-oos-data"),
        ("oos-proxy",),
        ("retrieval", "--dataset", "stackfaq"),
        ("retrieval", "--dataset", "bundled"),
    ],
    ids=" ".join,
)
def test_benchmarks_without_data_sets_say_where_they_go(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    result = helpdesk(tmp_path, "bench", *command, HELPDESK_DATASETS_DIR=str(tmp_path / "none"))
    assert_one_sentence(result, "HELPDESK_DATASETS_DIR", "docs/benchmarks.md")


# --- arguments --------------------------------------------------------------------------------


def test_an_unknown_case_status_lists_the_valid_ones(tmp_path: Path) -> None:
    result = helpdesk(tmp_path, "cases", "list", "--status", "bogus")
    assert result.returncode == 2
    assert "No cases." not in result.stdout
    flat = " ".join(result.stderr.replace("│", " ").split())
    assert "'bogus' is not a case status" in flat
    assert "new, open, pending, resolved, closed" in flat
