"""End to end: the Procfile's ``web`` process (``helpdesk run --role web``) as a real process,
with Telegram configured for webhooks against the local Bot API stand-in. It must refuse a
webhook call without the secret, answer a customer's update through the outbox, and stop
cleanly on SIGTERM (how platforms restart processes). Without any platform token it still
starts and serves ``/healthz`` and ``/readyz``.

What this cannot prove: Telegram's own delivery of webhooks (the test posts the update itself).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.telegram_api import TOKEN, TelegramApi
from tests.support.telegram_updates import AGENT_GROUP, CUSTOMER_CHAT, Updates

pytestmark = pytest.mark.model

SECRET = "webhook-secret-for-tests"
READY_ATTEMPTS = 1200  # × 0.25 s: the first start may train the model and build the index


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def wait_until_serving(
    client: httpx.AsyncClient, process: asyncio.subprocess.Process
) -> None:
    for _ in range(READY_ATTEMPTS):
        if process.returncode is not None:
            break
        try:
            if (await client.get("/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.25)  # polling a starting process for readiness, not timing
    assert process.stderr is not None
    raise AssertionError(
        f"the web process did not come up: {(await process.stderr.read())[-3000:]!r}"
    )


async def test_the_web_process_serves_the_telegram_webhook_and_stops_on_sigterm(
    api: TelegramApi, e2e_data_dir: Path, tmp_path: Path
) -> None:
    config = tmp_path / "helpdesk.yml"
    config.write_text(
        f"queues:\n  - name: default\n    channel: telegram:{AGENT_GROUP}\n", encoding="utf-8"
    )
    port = free_port()
    env = {
        **os.environ,
        "HELPDESK_DATA_DIR": str(e2e_data_dir),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'web.db'}",
        "HELPDESK_CONFIG": str(config),
        "TELEGRAM_TOKEN": TOKEN,
        "TELEGRAM_API_URL": api.base_url,
        "TELEGRAM_WEBHOOK_URL": "https://helpdesk.example/telegram/webhook",
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "PORT": str(port),
        "HF_HUB_OFFLINE": "1",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--role",
        "web",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            await wait_until_serving(client, process)
            assert api.calls_to("setWebhook")[-1]["secret_token"] == SECRET

            update = Updates().customer_says("how do I reset my password?")
            forged = await client.post(
                "/telegram/webhook",
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"},
            )
            assert forged.status_code == 403
            assert api.calls_to("sendMessage") == []

            accepted = await client.post(
                "/telegram/webhook",
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
            )
            assert accepted.status_code == 200
            # another process answers: its first message also warms the model up
            await api.wait_for_call("sendMessage", within=180, chat_id=CUSTOMER_CHAT)
        (answer,) = api.texts_to(CUSTOMER_CHAT)
        assert "password" in answer.lower() and "Did this help?" in answer
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 60)
    assert code == 0


async def test_the_web_process_starts_without_platform_tokens_and_serves_readiness(
    e2e_data_dir: Path, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("SLACK_BOT_TOKEN", "TELEGRAM_TOKEN", "DISCORD_TOKEN")
    }
    env |= {
        "HELPDESK_DATA_DIR": str(e2e_data_dir),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'web.db'}",
        "PORT": str(port),
        "HF_HUB_OFFLINE": "1",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--role",
        "web",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            await wait_until_serving(client, process)
            ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert all(check["ok"] for check in ready.json()["checks"].values())
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 60)
    assert code == 0
