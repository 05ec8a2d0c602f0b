"""The dashboard in real headless Chromium, against the web app served by uvicorn on
127.0.0.1 over PostgreSQL (the database several processes share in production).

A manager asks for the dashboard in the agents' channel, opens the link and sees a new case
appear with its SLA clock counting; when an agent claims it — through a second help desk on the
same database, as another process would — the page updates by itself. On a phone-sized screen
the dashboard reads without sideways scrolling, after a password sign-in through the real form.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from bot.clock import SystemClock
from bot.config import load_desk_config
from bot.dashboard.passwords import hash_password
from tests.support.dashboard import PASSWORD, Served, desk_yaml, link_token, serve_dashboard
from tests.support.desk import Transcript, build_transcript

# PostgreSQL only: a browser start is the costly part, and the access tests cover SQLite
pytestmark = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
WAIT_SECONDS = 15
READ_ATTEMPTS = 5  # re-finds of an element the live page replaced while it was read
T = TypeVar("T")


@dataclass
class Desk:
    t: Transcript
    other: Transcript  # a second help desk on the same database: another process
    served: Served


@pytest.fixture
async def desk(migrated_url: str, tmp_path: Path) -> AsyncIterator[Desk]:
    # the browser counts SLA clocks down from its own clock: the desk runs on the same one
    clock = SystemClock()
    config = tmp_path / "helpdesk.yml"
    config.write_text(desk_yaml(passwords={"fake:mia": hash_password(PASSWORD)}), "utf-8")
    desk = load_desk_config(config)
    t = await build_transcript(migrated_url, clock, tmp_path, desk=desk)
    other = await build_transcript(migrated_url, clock, tmp_path / "other", desk=desk)
    other._ids = itertools.count(10_000)  # its own platform event ids
    async with serve_dashboard(t, clock, config) as served:
        yield Desk(t, other, served)
    await other.helpdesk.close()
    await t.helpdesk.close()


async def until(driver: Any, condition: Callable[[Any], T]) -> T:
    """Wait (in a thread: the server runs on this event loop) until ``condition`` holds."""
    return await asyncio.to_thread(WebDriverWait(driver, WAIT_SECONDS).until, condition)


def text_of(selector: str) -> Callable[[Any], str]:
    """The text of the first element ``selector`` finds ("" for none). The page re-renders
    live, so an element found may be replaced before it is read: then it is found again."""

    def read(driver: Any) -> str:
        for _ in range(READ_ATTEMPTS):
            found = driver.find_elements(By.CSS_SELECTOR, selector)
            try:
                return str(found[0].text) if found else ""
            except StaleElementReferenceException:
                continue
        raise AssertionError(f"{selector} kept being replaced while it was read")

    return read


async def test_a_new_case_and_its_claim_appear_live(desk: Desk, browser: Any) -> None:
    token = link_token(await desk.t.agent("dashboard", user="mia", name="Mia"))
    await asyncio.to_thread(browser.get, f"{desk.served.url}/dashboard/sign-in/{token}")
    button = await until(browser, lambda d: d.find_element(By.CSS_SELECTOR, "form button"))
    await asyncio.to_thread(button.click)
    await until(browser, lambda d: "Live. 0 open" in text_of("#status")(d))
    assert await asyncio.to_thread(browser.find_element(By.ID, "no-open-cases").is_displayed)

    await desk.t.say("I forgot my password")
    await desk.t.click("Talk to a person")  # case #1, unclaimed
    row = '#sla tr[data-case="1"]'
    await until(browser, lambda d: "#1" in text_of(row)(d))
    first = f'{row} td[data-target="first_response"]'
    await until(browser, lambda d: "due in" in text_of(first)(d))
    cell = browser.find_element(By.CSS_SELECTOR, first)
    assert await asyncio.to_thread(cell.get_attribute, "data-state") == "ok"
    assert text_of(first)(browser).startswith("OK")
    assert "Unclaimed" in text_of(row)(browser)
    assert "1" in text_of("#queue tbody tr")(browser)  # default: 1 unclaimed, waiting …
    assert "waiting" in text_of("#queue tbody tr")(browser)
    assert text_of('[data-figure="today.opened"]')(browser) == "1"

    await desk.other.agent("claim 1", user="dana", name="Dana")  # in the other "process"
    await until(browser, lambda d: "Claimed · Dana" in text_of(row)(d))
    await until(browser, lambda d: "Live. 1 open, 0 unclaimed." in text_of("#status")(d))
    assert "waiting" not in text_of("#queue tbody tr")(browser)


async def test_a_phone_reads_the_dashboard_after_a_password_sign_in(
    desk: Desk, phone_browser: Any
) -> None:
    await desk.t.say("I forgot my password")
    await desk.t.click("Talk to a person")
    driver = phone_browser
    await asyncio.to_thread(driver.get, f"{desk.served.url}/dashboard")  # → the sign-in page
    account = await until(driver, lambda d: d.find_element(By.ID, "account"))
    await asyncio.to_thread(account.send_keys, "fake:mia")
    await asyncio.to_thread(driver.find_element(By.ID, "password").send_keys, PASSWORD)
    await asyncio.to_thread(driver.find_element(By.CSS_SELECTOR, "form button").click)
    await until(driver, lambda d: "due in" in text_of('#sla td[data-target="resolution"]')(d))
    fits = await asyncio.to_thread(
        driver.execute_script,
        "return document.documentElement.scrollWidth <= window.innerWidth",
    )
    assert fits, "the page scrolls sideways on a phone"
    queue_column = driver.find_element(By.CSS_SELECTOR, "#sla thead th.optional")
    assert not await asyncio.to_thread(queue_column.is_displayed)  # the least needed column
    sla_cell = driver.find_element(By.CSS_SELECTOR, '#sla td[data-target="first_response"]')
    assert await asyncio.to_thread(sla_cell.is_displayed)
