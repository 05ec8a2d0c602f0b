"""End to end: the Procfile's ``worker`` process (``helpdesk run --role worker``) holding a
Discord gateway connection to the local stand-in. When Discord ends the session for good
(close 4014, a privileged intent switched off) the process must not linger offline: it logs
what to change and exits with status 1, so a supervisor restarts it or alerts someone.

What this cannot prove: Discord's real gateway (heartbeats, resumes, compression).
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from tests.support.discord_wire import discord_wire

pytestmark = pytest.mark.model

START_WITHIN = 600  # seconds: the first start may train the model and build the index


async def test_a_fatal_gateway_close_ends_the_worker_with_status_1(
    e2e_data_dir: Path, tmp_path: Path
) -> None:
    config = tmp_path / "helpdesk.yml"
    config.write_text("queues:\n  - name: default\n    channel: 'discord:42'\n", encoding="utf-8")
    async with discord_wire() as wire:
        env = {
            **os.environ,
            "HELPDESK_DATA_DIR": str(e2e_data_dir),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'worker.db'}",
            "HELPDESK_CONFIG": str(config),
            "DISCORD_TOKEN": "not-a-real-token",
            "DISCORD_API_URL": wire.base_url,
            "DISCORD_GATEWAY_URL": wire.gateway_url,
            "HF_HUB_OFFLINE": "1",
        }
        for name in ("SLACK_BOT_TOKEN", "TELEGRAM_TOKEN"):
            env.pop(name, None)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            "--role",
            "worker",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            await asyncio.wait_for(wire.identified.wait(), START_WITHIN)
            await wire.close_gateway(4014)
            _, stderr = await asyncio.wait_for(process.communicate(), 60)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert process.returncode == 1, stderr.decode()[-3000:]
    assert b"MESSAGE CONTENT" in stderr and b"offline" in stderr
