"""The terminal plays both sides: every desk verb works as ``/agent …``, and ``/link`` for the
customer (keyword understander, so no model is loaded). People have names, an edited case card
is one status line, and ``/help`` lists the agent's commands too."""

from __future__ import annotations

import io
from pathlib import Path

from bot.adapters.console import ConsoleChannel
from bot.bootstrap import build_helpdesk
from bot.clock import FrozenClock
from bot.config import Settings
from bot.dialogs.replies import TERMINAL_AGENT_HELP
from bot.messages import Inbound
from tests.support.desk import KeywordUnderstander

SCRIPT = """\
/help
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


async def play(script: str, url: str, clock: FrozenClock, data_dir: Path) -> str:
    """Run ``script`` through the terminal as ``helpdesk chat`` wires it; what was printed."""
    out = io.StringIO()
    console = ConsoleChannel(
        lines=script.splitlines(), out=out, agent_name="Dana", local_help=TERMINAL_AGENT_HELP
    )
    helpdesk = await build_helpdesk(
        Settings(DATABASE_URL=url, HELPDESK_DATA_DIR=data_dir),
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
    return out.getvalue()


async def test_the_terminal_shows_the_whole_desk(
    migrated_url: str, clock: FrozenClock, tmp_path: Path
) -> None:
    shown = await play(SCRIPT, migrated_url, clock, tmp_path)
    assert "You're next in the queue." in shown
    assert "bot> Your link code is " in shown
    assert "[agents] #1 claimed by Dana." in shown
    assert "[agents] #1 priority set to high by Dana." in shown
    assert "[agents] Macro hi added." in shown
    assert "bot> Dana (Support): Hi Alex, Dana here about #1." in shown
    assert "bot> Your case #1 is waiting for your answer" in shown
    assert "[agents] #1 Alex: it is the white one" in shown
    assert "[agents] #1 [open · Dana] my hub is dead" in shown  # cases mine
    assert "[agents] note" not in shown and "[agents] Case #1 — my hub is dead — open" in shown
    assert "bot> " + "Your case #1 has been passed to the team best placed to help" in shown
    assert "bot> Your case #1 has been resolved." in shown
    assert "bot> Thank you for your rating!" in shown
    assert "bot> Thank you — your comment goes straight to the team." in shown
    assert "[agents] #1 customer's comment on their rating: fast and friendly" in shown
    assert "#1 You:" not in shown and "Agent (Support)" not in shown  # people, not roles


async def test_the_terminal_help_and_card_updates_stay_short(
    migrated_url: str, clock: FrozenClock, tmp_path: Path
) -> None:
    shown = (await play(SCRIPT, migrated_url, clock, tmp_path)).splitlines()
    # /help: the customer's commands, then the agent's (the terminal plays both)
    help_at = shown.index("you> /help")
    assert shown[help_at + 1].startswith("bot> Just type your question.")
    agent_help = "\n".join(shown[help_at + 2 : help_at + 9])
    for verb in ("/agent claim N", "/agent reply N", "/agent resolve N", "/agent case N"):
        assert verb in agent_help
    # a card is shown in full when posted; each change after that is one status line
    updates = [i for i, line in enumerate(shown) if line.startswith("[agents] (updated) ")]
    assert len(updates) >= 4
    assert not any(shown[i + 1].startswith("[agents] Customer:") for i in updates)
    claim_at = shown.index("you> /agent claim 1")
    assert shown[claim_at + 1 : claim_at + 4] == [
        "[agents] (updated) Case #1 — my hub is dead · Status: open, claimed by Dana",
        "[agents] #1 claimed by Dana.",
        "bot> Dana from our team has joined and is looking at case #1.",
    ]
    # `case N` still shows the whole case
    case_at = shown.index("you> /agent case 1")
    assert shown[case_at + 1].startswith("[agents] Case #1 — my hub is dead")
    assert shown[case_at + 2].startswith("[agents] Customer: Alex (terminal)")
