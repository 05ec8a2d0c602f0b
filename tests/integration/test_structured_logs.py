"""Log lines about a case or a conversation say which, in JSON when asked
(``HELPDESK_LOG_FORMAT=json``), and no line ever shows a token."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.clock import FrozenClock
from bot.config import Settings
from bot.logs import ContextFilter, JsonFormatter, TextFormatter
from tests.integration.test_metrics import FailsOnBoom
from tests.support.desk import Transcript, build_transcript

TOKEN = "xoxb-1234-secret-token"


@pytest.fixture
async def t(migrated_url: str, clock: FrozenClock, tmp_path: Path) -> AsyncIterator[Transcript]:
    transcript = await build_transcript(migrated_url, clock, tmp_path, understander=FailsOnBoom())
    yield transcript
    await transcript.helpdesk.close()


@pytest.fixture
def captured() -> Iterator[tuple[io.StringIO, logging.Handler]]:
    """The root logger's lines at INFO, into a buffer, through the help desk's filter."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    level = root.level
    # what an earlier test's logging set-up (a CLI run, a library's dictConfig) may have left on
    # the help desk's loggers — disabled, a level, no propagation — is undone for this test
    ours = [
        logging.getLogger(name)
        for name in list(logging.root.manager.loggerDict)
        if name == "bot" or name.startswith("bot.")
    ]
    saved = [(logger, logger.disabled, logger.level, logger.propagate) for logger in ours]
    for logger in ours:
        logger.disabled, logger.propagate = False, True
        logger.setLevel(logging.NOTSET)
    disabled_below = logging.root.manager.disable
    logging.disable(logging.NOTSET)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield buffer, handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        logging.disable(disabled_below)
        for logger, disabled, was, propagate in saved:
            logger.disabled, logger.propagate = disabled, propagate
            logger.setLevel(was)


def json_lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.startswith("{")]


async def test_json_lines_name_the_case_the_conversation_and_the_platform(
    t: Transcript, captured: tuple[io.StringIO, logging.Handler]
) -> None:
    buffer, handler = captured
    handler.setFormatter(JsonFormatter())
    await t.say("I forgot my password")
    await t.click("Talk to a person")
    await t.agent("claim 1")
    await t.say("boom", channel=t.customer.in_thread("other"), user_id="bea")

    lines = json_lines(buffer)
    by_message = {line["message"]: line for line in lines}
    opened = by_message["case #1: case_opened"]
    claimed = by_message["case #1: case_claimed"]
    assert (opened["case"], opened["conversation"], opened["platform"]) == (
        1,
        "fake:dm-ada",
        "fake",
    )
    # the agent's line is handled in the customer's conversation, where its case lives
    assert (claimed["case"], claimed["conversation"], claimed["platform"]) == (
        1,
        "fake:dm-ada",
        "fake",
    )
    failed = next(line for line in lines if line["message"].startswith("failed to handle"))
    assert failed["level"] == "ERROR" and "case" not in failed
    assert (failed["conversation"], failed["platform"]) == ("fake:dm-ada/other", "fake")
    assert "RuntimeError: the encoder is gone" in failed["exception"]


async def test_a_text_line_carries_the_same_fields(
    t: Transcript, captured: tuple[io.StringIO, logging.Handler]
) -> None:
    buffer, handler = captured
    handler.setFormatter(TextFormatter())
    await t.say("I need a human")
    await t.say("my hub is dead")
    assert "case #1: case_opened [case=1 conversation=fake:dm-ada platform=fake]" in (
        buffer.getvalue()
    )


def test_no_line_shows_a_configured_token(
    captured: tuple[io.StringIO, logging.Handler], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    buffer, handler = captured
    handler.setFormatter(JsonFormatter(Settings().secret_values()))
    logging.getLogger("httpx").warning("POST https://slack.test/api/chat.postMessage %s", TOKEN)
    try:
        raise RuntimeError(f"refused {TOKEN}")
    except RuntimeError:
        logging.getLogger("bot").exception("sending failed")
    text = buffer.getvalue()
    assert TOKEN not in text
    first = json_lines(buffer)[0]
    assert first["message"].endswith("<redacted>")
