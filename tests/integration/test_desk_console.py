"""The terminal plays both sides: every desk verb works as ``/agent …``, and ``/link`` for the
customer (keyword understander, so no model is loaded)."""

from __future__ import annotations

import io
from pathlib import Path

from bot.adapters.console import ConsoleChannel
from bot.bootstrap import build_helpdesk
from bot.clock import FrozenClock
from bot.config import Settings
from bot.messages import Inbound
from tests.support.desk import KeywordUnderstander

SCRIPT = """\
I need a person
my hub is dead
/link
/agent claim 1
/agent priority 1 high
/agent macro set hi Hi {customer_name}, {agent} here about #{case_number}.
/agent macro 1 hi
/agent pending 1
it is the white one
/agent cases mine
/agent case 1
/agent transfer 1 default
/agent claim 1
/agent resolve 1
5
fast and friendly
"""


async def test_the_terminal_shows_the_whole_desk(
    migrated_url: str, clock: FrozenClock, tmp_path: Path
) -> None:
    out = io.StringIO()
    console = ConsoleChannel(lines=SCRIPT.splitlines(), out=out, agent_name="Dana")
    helpdesk = await build_helpdesk(
        Settings(DATABASE_URL=migrated_url, HELPDESK_DATA_DIR=tmp_path),
        channels={"terminal": console},
        understander=KeywordUnderstander(),
        clock=clock,
    )

    async def on_inbound(inbound: Inbound) -> None:
        await helpdesk.intake.receive(inbound)
        await helpdesk.sender.drain()

    try:
        await console.start(on_inbound)
        await console.finished.wait()
    finally:
        await console.stop()
        await helpdesk.close()
    shown = out.getvalue()
    assert "You're next in the queue." in shown
    assert "bot> Your link code is " in shown
    assert "[agents] #1 claimed by Dana." in shown
    assert "[agents] #1 priority set to high by Dana." in shown
    assert "[agents] Macro hi added." in shown
    assert "bot> Dana (Support): Hi You, Dana here about #1." in shown
    assert "bot> Your case #1 is waiting for your answer" in shown
    assert "[agents] #1 You: it is the white one" in shown
    assert "[agents] #1 [open · Dana] my hub is dead" in shown  # cases mine
    assert "[agents] note" not in shown and "[agents] Case #1 — my hub is dead — open" in shown
    assert "bot> " + "Your case #1 has been passed to the team best placed to help" in shown
    assert "bot> Your case #1 has been resolved." in shown
    assert "bot> Thank you for your rating!" in shown
    assert "bot> Thank you — your comment goes straight to the team." in shown
    assert "[agents] #1 customer's comment on their rating: fast and friendly" in shown
