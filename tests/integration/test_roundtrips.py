"""Round trips of an ordinary answered message: the arrival is stored (before the platform is
acknowledged), claimed, and handled in ONE transaction that writes the dialog, the answer's
outbox row and the inbox's "done" mark together (handled exactly once); the running sender
delivers it at once, with a lease and one more transaction. Counted with the benchmark's own
counter (``helpdesk bench roundtrips``); a change that splits the handling or adds commits
shows here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.roundtrips import run_roundtrips
from bot.bootstrap import build_helpdesk
from tests.support.desk import KeywordUnderstander


async def keyword_helpdesk(settings: Any, **kwargs: Any) -> Any:
    return await build_helpdesk(settings, understander=KeywordUnderstander(), **kwargs)


async def test_an_answered_message_takes_three_transactions_and_two_to_deliver(
    migrated_url: str, tmp_path: Path
) -> None:
    figures = await run_roundtrips(
        database_url=migrated_url, data_dir=tmp_path, helpdesk_factory=keyword_helpdesk
    )
    answer = next(k for k in figures["kinds"] if k["kind"] == "answer")
    assert answer["replies_delivered"] == 1
    assert answer["handling"]["transactions"] == 3  # stored, claimed, handled
    assert answer["delivery"]["transactions"] == 2  # leased, sent (and the lease given up)
    stored, claimed, handled = answer["handling_transactions"]
    assert any(s.startswith("INSERT INTO inbox") for s in stored)
    # the claim is one conditional UPDATE that returns the row: no look-up before, no read after
    assert len(claimed) == 1 and claimed[0].startswith("UPDATE inbox")
    # exactly once: the answer, the dialog and the "done" mark are one transaction
    assert any(s.startswith("INSERT INTO outbox") for s in handled)
    assert any(s.startswith("UPDATE dialog_sessions") for s in handled)
    assert any(s.startswith("UPDATE inbox SET status") for s in handled)
    leased, delivered = answer["delivery_transactions"]
    assert any(s.startswith("INSERT INTO outbox_leases") for s in leased)
    assert any(s.startswith("UPDATE outbox SET status") for s in delivered)
