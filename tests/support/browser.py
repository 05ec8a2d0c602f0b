"""Real headless Chromium for the web tests, driven through Selenium and Debian's chromedriver.

The test command installs ``chromium`` and ``chromium-driver`` (as it starts PostgreSQL). The
driver is named by path, so Selenium never looks for one on the network; a missing browser
fails the tests in CI and skips them only on a developer's machine without it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

CHROMIUM = os.environ.get("HELPDESK_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("HELPDESK_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")


def _missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (os.path.exists(path) or shutil.which(path)):
            return path
    return None


@contextmanager
def headless_chromium(*, width: int = 1280, height: int = 900) -> Iterator[Any]:
    """A fresh browser (its own profile: no cookies or storage from another test)."""
    missing = _missing()
    if missing is not None:
        if os.environ.get("CI"):
            pytest.fail(f"{missing} is not installed: scripts/test.sh installs chromium")
        pytest.skip(f"{missing} is not installed (scripts/test.sh installs it)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",  # the tests run as root in a container
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        f"--window-size={width},{height}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
