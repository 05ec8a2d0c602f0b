"""The web chat in real headless Chromium: the widget on the ``/demo`` page, served by the
web app (uvicorn on 127.0.0.1) with the real model and a real database, agents in a fake
channel. Each test is one visitor's story; waits are on what the page shows (WebDriverWait).

What these cannot prove: other browsers' WebSocket quirks, real screen readers (the ARIA roles
and labels are checked, not heard), networks that block WebSockets (the SSE fallback is
tested in ``test_web_chat_protocol``)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.web_desk import ServedDesk, served_desk

# the first test of a run may train the intent model into the shared data directory
pytestmark = pytest.mark.timeout(600)

QUESTION = "How do I reset my password?"
ARTICLE = "Reset your Lumio password"


@pytest.fixture
def desk(database_url: str, e2e_data_dir: Path) -> Iterator[ServedDesk]:
    with served_desk(database_url, e2e_data_dir) as served:
        yield served


def wait_until(driver: Any, condition: Callable[[Any], Any], timeout: float = 30) -> Any:
    return WebDriverWait(driver, timeout).until(condition)


def _texts(driver: Any, selector: str) -> list[str]:
    # read in one script: an edit (buttons retired after a click) replaces elements
    script = "return [...document.querySelectorAll(arguments[0])].map(e => e.textContent)"
    return list(driver.execute_script(script, selector))


def desk_texts(driver: Any) -> list[str]:
    return _texts(driver, ".hdw-desk .hdw-text")


def visitor_texts(driver: Any) -> list[str]:
    return _texts(driver, ".hdw-visitor .hdw-text")


def screenshot(driver: Any, name: str) -> None:
    """With HELPDESK_SCREENSHOTS set (a folder), keep what the visitor sees there: how the
    README's pictures are made (``docs/images``)."""
    folder = os.environ.get("HELPDESK_SCREENSHOTS")
    if folder:
        driver.save_screenshot(str(Path(folder) / name))


def shown(driver: Any, words: str) -> bool:
    return any(words in text for text in desk_texts(driver))


def write(driver: Any, text: str) -> None:
    box = driver.find_element(By.ID, "hdw-input")
    box.send_keys(text)
    box.send_keys(Keys.ENTER)


def click_choice(driver: Any, label: str) -> None:
    buttons = [
        b
        for b in driver.find_elements(By.CSS_SELECTOR, ".hdw-choice")
        if b.text == label and b.is_enabled()
    ]
    buttons[-1].click()


def open_widget(driver: Any, desk: ServedDesk) -> None:
    driver.get(desk.url + "/demo")
    launcher = wait_until(driver, lambda d: d.find_element(By.CSS_SELECTOR, ".hdw-launcher"))
    launcher.click()
    wait_until(driver, lambda d: d.find_element(By.CSS_SELECTOR, ".hdw-status").text == "Online")


def ask_for_a_person(driver: Any) -> None:
    click_choice(driver, "Talk to a person")
    wait_until(driver, lambda d: shown(d, "opened case #") or shown(d, "In a sentence or two"))
    if not shown(driver, "opened case #"):
        write(driver, "The reset email never arrives")
        wait_until(driver, lambda d: shown(d, "opened case #"))


def test_a_visitor_gets_an_article_then_a_person_whose_replies_arrive_live(
    browser: Any, desk: ServedDesk
) -> None:
    open_widget(browser, desk)
    assert browser.switch_to.active_element.get_attribute("id") == "hdw-input"  # focus moved
    log = browser.find_element(By.CSS_SELECTOR, ".hdw-log")
    assert log.get_attribute("aria-live") == "polite" and log.get_attribute("role") == "log"

    write(browser, QUESTION)
    wait_until(browser, lambda d: shown(d, ARTICLE))
    ask_for_a_person(browser)

    wait_until(browser, lambda _: any("#1" in text for text in desk.agents_saw()))
    desk.agent("claim 1")
    desk.agent("reply 1 Hi, I'm Dana. I've sent you a fresh reset link.")
    wait_until(browser, lambda d: shown(d, "I've sent you a fresh reset link"))
    screenshot(browser, "widget-desktop.png")
    assert any(t.startswith("Dana") and "fresh reset link" in t for t in desk_texts(browser))

    # markup a visitor types is text: shown as typed, relayed as typed, never run
    sneaky = '<img src=x id=injected onerror="document.title=1"> still no email'
    write(browser, sneaky)
    wait_until(browser, lambda _: any("still no email" in text for text in desk.agents_saw()))
    assert sneaky in visitor_texts(browser)
    assert browser.find_elements(By.ID, "injected") == []

    # a reload resumes the conversation, every message shown once
    browser.refresh()
    wait_until(browser, lambda d: shown(d, "I've sent you a fresh reset link"))
    wait_until(browser, lambda d: sneaky in visitor_texts(d))
    assert visitor_texts(browser).count(QUESTION) == 1
    assert visitor_texts(browser).count(sneaky) == 1
    assert sum("fresh reset link" in text for text in desk_texts(browser)) == 1
    assert sum(ARTICLE in text for text in desk_texts(browser)) == 1


def test_on_a_phone_a_dropped_connection_and_a_restart_lose_and_repeat_nothing(
    phone_browser: Any, desk: ServedDesk
) -> None:
    browser = phone_browser
    open_widget(browser, desk)
    panel = browser.find_element(By.CSS_SELECTOR, ".hdw-panel")
    # the open chat fills the phone's screen (the page's scroll bar aside)
    assert panel.size["width"] == browser.execute_script(
        "return document.documentElement.clientWidth"
    )

    write(browser, QUESTION)
    wait_until(browser, lambda d: shown(d, ARTICLE))
    ask_for_a_person(browser)
    desk.agent("claim 1")
    desk.agent("reply 1 First: are you on the app or the website?")
    wait_until(browser, lambda d: shown(d, "First: are you"))

    # the web chat restarts; a reply is delivered while the widget cannot connect
    desk.restart_web()
    wait_until(browser, lambda d: d.find_element(By.CSS_SELECTOR, ".hdw-status").text != "Online")
    desk.agent("reply 1 Second: sent while you were away")
    desk.resume_web()
    wait_until(browser, lambda d: shown(d, "Second: sent while you were away"))

    # the socket drops (closed by the server) and a reply follows at once
    desk.call(desk.web.drop_connections())
    desk.agent("reply 1 Third: after the drop")
    wait_until(browser, lambda d: shown(d, "Third: after the drop"))
    screenshot(browser, "widget-phone.png")
    write(browser, "On the app")
    wait_until(browser, lambda _: any("On the app" in text for text in desk.agents_saw()))

    texts = desk_texts(browser)
    for words in ("First: are you", "Second: sent", "Third: after", ARTICLE):
        assert sum(words in text for text in texts) == 1, (words, texts)
    where = [next(i for i, t in enumerate(texts) if w in t) for w in ("First", "Second", "Third")]
    assert where == sorted(where), texts
    assert visitor_texts(browser).count(QUESTION) == 1
