"""Fixtures for end-to-end tests that run the real ``helpdesk`` processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT


@pytest.fixture(scope="session")
def e2e_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with the bundled articles, shared by the end-to-end tests of a session:
    the first process to start trains the intent model and builds the index in it, the others
    reuse them. Each test gives its processes a database of its own (``DATABASE_URL``)."""
    data_dir = tmp_path_factory.mktemp("e2e-data")
    (data_dir / "articles").symlink_to(PROJECT_ROOT / "data" / "articles")
    return data_dir
