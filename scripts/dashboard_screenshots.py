"""Screenshots of the managers' dashboard for the README (docs/images/dashboard-*.png).

Seeds the demo history (``helpdesk db seed --demo``'s, three weeks) into a fresh SQLite
database, serves the dashboard on 127.0.0.1 with its clock set to the end of that history (the
last Thursday, 15:10 UTC: a week with something in it), signs in with a password through the
real form in headless Chromium and captures a desktop and a phone-sized view.

    python scripts/dashboard_screenshots.py [--out docs/images]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import uvicorn
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from bot.config import DashboardConfig, DeskConfig, QueueConfig, RoleMembers, Roles
from bot.dashboard.app import dashboard_routes
from bot.dashboard.passwords import hash_password
from bot.escalation import sla
from bot.escalation.calendar import BusinessCalendar
from bot.reports.gaps import bundled_encoder
from bot.reports.seed import seed_demo
from bot.storage.db import create_engine, session_factory
from bot.storage.migrate import upgrade_database
from bot.storage.uow import UnitOfWork
from bot.web import create_web_app
from tests.support.browser import headless_chromium

PERSON, PASSWORD = "slack:U0MANAGER", "screenshots only, not a real password"
SIZES = {"desktop": (1280, 1700), "phone": (390, 1400)}


class ShiftedClock:
    """Real time, moved back so that it starts at ``start``: the page's clocks keep counting."""

    def __init__(self, start: datetime) -> None:
        self._shift = datetime.now(UTC) - start

    def now(self) -> datetime:
        return datetime.now(UTC) - self._shift


def _last_thursday_afternoon() -> datetime:
    today = datetime.now(UTC).replace(hour=15, minute=10, second=0, microsecond=0)
    return today - timedelta(days=(today.weekday() - 3) % 7 or 7)


def _desk() -> DeskConfig:
    return DeskConfig(
        roles=Roles(managers=RoleMembers(slack=["U0MANAGER"])),
        queues=[
            QueueConfig(name="default", channel="slack:C0GENERAL"),
            QueueConfig(name="billing", channel="slack:C0BILLING", intents=["billing"]),
        ],
        dashboard=DashboardConfig(passwords={PERSON: hash_password(PASSWORD)}),
    )


async def _seed(url: str, desk: DeskConfig, clock: ShiftedClock) -> None:
    await upgrade_database(url)
    engine = create_engine(url)
    calendar = BusinessCalendar.from_config(desk.business_hours)
    try:
        async with UnitOfWork(session_factory(engine), clock) as uow:
            await seed_demo(
                uow,
                until=clock.now(),
                weeks=3,
                due_times=lambda case: sla.start_clock(case, desk.sla, calendar, case.created_at),
            )
            await uow.commit()
    finally:
        await engine.dispose()


def _capture(base: str, out: Path) -> None:
    for name, (width, height) in SIZES.items():
        with headless_chromium(width=width, height=height) as driver:
            driver.get(f"{base}/dashboard")
            wait: Any = WebDriverWait(driver, 60)
            wait.until(lambda d: d.find_element(By.ID, "account")).send_keys(PERSON)
            driver.find_element(By.ID, "password").send_keys(PASSWORD)
            driver.find_element(By.CSS_SELECTOR, "form button").click()
            wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "td.sla[data-state]"))
            path = out / f"dashboard-{name}.png"
            driver.save_screenshot(str(path))
            print(path)


async def main(out: Path) -> None:
    desk = _desk()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'demo.db'}"
        clock = ShiftedClock(_last_thursday_afternoon())
        await _seed(url, desk, clock)
        encoder = bundled_encoder()
        await asyncio.to_thread(encoder.encode, ["hello"])  # loaded before the page waits on it
        engine = create_engine(url)
        routes = dashboard_routes(
            sessions=session_factory(engine),
            desk=desk,
            clock=clock,
            secret="screenshots-secret-0123456789",
            gaps_encoder=encoder,
        )
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        server = uvicorn.Server(
            uvicorn.Config(
                create_web_app({}, extra_routes=routes),
                log_level="warning",
                lifespan="off",
                timeout_graceful_shutdown=1,
            )
        )
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        try:
            base = f"http://127.0.0.1:{sock.getsockname()[1]}"
            await asyncio.to_thread(_capture, base, out)
        finally:
            server.should_exit = True
            await serving
            await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/images"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(args.out))
