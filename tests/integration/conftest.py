"""Fixtures shared by the integration tests: the platform stand-ins most modules start from,
and a data directory for end-to-end tests that run the real ``helpdesk`` processes. A module
that needs another set-up defines a fixture of the same name."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import simcord

from bot.config import PROJECT_ROOT
from tests.support.browser import headless_chromium
from tests.support.discord_sim import DiscordWorld, discord_world, simulated_discord
from tests.support.telegram_api import TelegramApi, forum_with_admin_bot
from tests.support.telegram_updates import AGENT_GROUP


@pytest.fixture
async def api() -> AsyncIterator[TelegramApi]:
    """The Bot API stand-in with the agents' forum group, the bot an admin in it."""
    async with forum_with_admin_bot(AGENT_GROUP) as api:
        yield api


@pytest.fixture
async def discord_env() -> AsyncIterator[simcord.Env]:
    """The Discord stand-in, with discord.py's HTTP and gateway pointed at it."""
    async with simulated_discord() as env:
        yield env


@pytest.fixture
def world(discord_env: simcord.Env) -> DiscordWorld:
    """The guild, channels and people of the Discord tests."""
    return discord_world(discord_env)


E2E_TIMEOUT = 900  # seconds: the first of them in a worker trains the model and builds the index


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Any test on ``e2e_data_dir`` may be the one that builds it (which one depends on the
    order and on how files are shared among workers), so each gets the longer hang guard."""
    for item in items:
        if "e2e_data_dir" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.timeout(E2E_TIMEOUT))


@pytest.fixture(scope="session")
def e2e_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with the bundled sample (its articles, topic intents and wording),
    shared by the end-to-end tests of a session: the first process to start trains the intent
    model and builds the index in it, the others reuse them. Each test gives its processes a
    database of its own (``DATABASE_URL``)."""
    data_dir = tmp_path_factory.mktemp("e2e-data")
    for name in ("articles", "nlu", "replies.yml"):
        (data_dir / name).symlink_to(PROJECT_ROOT / "data" / name)
    return data_dir


@pytest.fixture
def browser() -> Iterator[Any]:
    """Real headless Chromium (see ``tests.support.browser``), a fresh profile per test."""
    with headless_chromium() as driver:
        yield driver


@pytest.fixture
def phone_browser() -> Iterator[Any]:
    """The same, with a phone-sized window (390 × 844 CSS pixels)."""
    with headless_chromium(width=390, height=844) as driver:
        yield driver
