"""The web chat in real headless Chromium: the widget on the ``/demo`` page, served by the
web app (uvicorn on 127.0.0.1) with the real model and a real database, agents in a fake
channel. Each test is one visitor's story; waits are on what the page shows (WebDriverWait).

What these cannot prove: other browsers' WebSocket quirks, real screen readers (the ARIA roles
and labels are checked, not heard), networks that block WebSockets (the SSE fallback is
tested in ``test_web_chat_protocol``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.web_desk import ServedDesk, served_desk

QUESTION = "How do I reset my password?"
ARTICLE = "Reset your Lumio password"


@pytest.fixture
def desk(database_url: str, e2e_data_dir: Path) -> Iterator[ServedDesk]:
    with served_desk(database_url, e2e_data_dir) as served:
        yield served


def wait_until(driver: Any, condition: Callable[[Any], Any], timeout: float = 30) -> Any:
    return WebDriverWait(driver, timeout).until(condition)


def desk_texts(driver: Any) -> list[str]:
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".hdw-desk .hdw-text")]


def visitor_texts(driver: Any) -> list[str]:
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".hdw-visitor .hdw-text")]


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
    attribution = browser.find_elements(By.CSS_SELECTOR, ".hdw-desk .hdw-who")
    assert any("Dana" in who.text for who in attribution)

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
