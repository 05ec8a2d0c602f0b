"""``helpdesk inbox list|retry`` and the inbox figures of ``helpdesk config show``: an operator
sees an inbound that failed for good, with its error, requeues it, and it is handled."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from bot.cli import app
from bot.clock import FrozenClock
from bot.dialogs import replies
from bot.messages import ChannelRef
from tests.integration.test_inbox_exactly_once import failing_transcript


async def helpdesk(database_url: str, *args: str) -> Any:
    result = await asyncio.to_thread(
        CliRunner().invoke, app, list(args), env={"DATABASE_URL": database_url}
    )
    assert result.exit_code == 0, result.output
    return result.stdout


async def test_an_operator_sees_a_failed_inbound_requeues_it_and_it_is_handled(
    database_url: str, clock: FrozenClock, tmp_path: Path
) -> None:
    t, understander = await failing_transcript(database_url, clock, tmp_path, failures=5)
    try:
        await t.say("boom hello")
        for _ in range(5):
            clock.advance(minutes=2)
            await t.helpdesk.intake.recover()
        await t.say("hello", channel=ChannelRef("fake", "dm-bob"), user_id="bob")

        (row,) = json.loads(await helpdesk(database_url, "inbox", "list", "--json"))
        assert row["status"] == "failed" and row["attempts"] == 5
        assert row["error"] == "RuntimeError: the search index is being rebuilt"
        assert row["conversation"] == "fake:dm-ada" and row["text"] == "boom hello"
        shown = json.loads(await helpdesk(database_url, "config", "show", "--json"))
        assert shown["backlog"]["inbox"] == {"failed": 1, "pending": 0, "processing": 0}
        text = await helpdesk(database_url, "inbox", "list", "--status", "failed")
        assert "error: RuntimeError" in text

        none = await helpdesk(database_url, "inbox", "retry", "--platform", "slack", "--json")
        assert json.loads(none) == {"requeued": 0}
        assert "Requeued 1 failed inbound." in await helpdesk(database_url, "inbox", "retry")

        await t.helpdesk.intake.recover()  # the platform's search works again (6th call)
        await t.helpdesk.sender.drain()
        assert t.new_for(t.customer) == [replies.UNKNOWN_ERROR, replies.GREETING]
        assert json.loads(await helpdesk(database_url, "inbox", "list", "--json")) == []
        assert understander.calls == 6
    finally:
        await t.helpdesk.close()
