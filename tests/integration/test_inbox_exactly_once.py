"""Every inbound is handled exactly once — with a second process recovering beside the first,
after a crash right after the handler's commit, through failures and retries — and in arrival
order per conversation.

A "process" here is a second ``HelpDesk`` on the same database: its own engine, sessions,
intake and outbox sender, as a second ``helpdesk run`` would have. ``benchmarks/faults_inbox.py``
does the same with real processes killed by SIGKILL.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.clock import FrozenClock
from bot.dialogs import replies
from bot.dialogs.understanding import Understanding
from bot.messages import ChannelRef, Inbound, InboundKind
from bot.storage.models import CaseEvent, InboxMessage
from tests.support.desk import KeywordUnderstander, Transcript, build_transcript


def hello(n: int, conversation: int) -> Inbound:
    return Inbound(
        kind=InboundKind.MESSAGE,
        event_id=f"hello-{n}",
        channel=ChannelRef("fake", f"dm-{conversation}"),
        user_id=f"user-{conversation}",
        user_name=f"Customer {conversation}",
        text="hello",
    )


async def greetings_delivered(*desks: Transcript) -> int:
    for t in desks:
        await t.helpdesk.sender.drain()
    return sum(t.channels["fake"].texts().count(replies.GREETING) for t in desks)


async def inbox_rows(t: Transcript) -> list[InboxMessage]:
    async with t.helpdesk.sessions() as session:
        return list(await session.scalars(select(InboxMessage).order_by(InboxMessage.id)))


async def test_a_second_process_recovering_while_the_first_works_handles_nothing_twice(
    database_url: str, clock: FrozenClock, tmp_path: Path
) -> None:
    first = await build_transcript(database_url, clock, tmp_path / "a")
    second = await build_transcript(database_url, clock, tmp_path / "b")
    try:
        for n in range(40):  # 20 conversations, two messages each
            assert await first.helpdesk.intake.accept(hello(n, n % 20))
        recovered = await second.helpdesk.intake.recover()
        await first.helpdesk.intake.wait_idle()
        await second.helpdesk.intake.wait_idle()

        assert await greetings_delivered(first, second) == 40
        rows = await inbox_rows(first)
        assert [r.status for r in rows] == ["done"] * 40
        assert all(r.attempts == 1 for r in rows)
        assert recovered <= 40
    finally:
        await first.helpdesk.close()
        await second.helpdesk.close()


class ProcessDied(BaseException):
    """Stands for SIGKILL: nothing after it runs."""


def die_when_a_handler_commits(t: Transcript) -> None:
    """ "Kill" the process right after the database accepted a handler's transaction: the
    first thing a committed unit of work does is hand its rows to the outbox sender."""

    def die(conversations: set[str]) -> None:  # the first thing after the commit
        raise ProcessDied

    t.helpdesk.sender.deliver = die  # type: ignore[method-assign]


async def test_a_crash_right_after_the_handler_commits_is_not_handled_again_on_restart(
    database_url: str, clock: FrozenClock, tmp_path: Path
) -> None:
    crashed = await build_transcript(database_url, clock, tmp_path / "a")
    die_when_a_handler_commits(crashed)
    with pytest.raises(ProcessDied):
        await crashed.helpdesk.intake.receive(hello(1, 1))
    await crashed.helpdesk.engine.dispose()

    restarted = await build_transcript(database_url, clock, tmp_path / "b")
    try:
        clock.advance(minutes=5)  # any lease the dead process held has run out
        await restarted.helpdesk.intake.recover()
        assert await greetings_delivered(restarted) == 1
        assert [r.status for r in await inbox_rows(restarted)] == ["done"]
    finally:
        await restarted.helpdesk.close()


class FailingUnderstander(KeywordUnderstander):
    """Fails on "boom" the first ``failures`` times (None: always)."""

    def __init__(self, failures: int | None) -> None:
        self.failures = failures
        self.calls = 0

    async def understand(self, text: str) -> Understanding:
        if "boom" in text:
            self.calls += 1
            if self.failures is None or self.calls <= self.failures:
                raise RuntimeError("the search index is being rebuilt")
        return await super().understand(text)


async def failing_transcript(
    database_url: str, clock: FrozenClock, tmp_path: Path, failures: int | None
) -> tuple[Transcript, FailingUnderstander]:
    t = await build_transcript(database_url, clock, tmp_path)
    understander = FailingUnderstander(failures)
    t.helpdesk.intake._engine._understander = understander
    return t, understander


async def test_a_failed_inbound_is_retried_after_a_backoff_and_holds_back_its_conversation(
    database_url: str, clock: FrozenClock, tmp_path: Path
) -> None:
    t, understander = await failing_transcript(database_url, clock, tmp_path, failures=2)
    try:
        assert await t.say("boom hello") == []  # failed once: nothing said yet
        assert await t.say("hello again") == []  # waits behind the failed line
        clock.advance(seconds=1)
        await t.helpdesk.intake.recover()
        assert understander.calls == 1  # the backoff has not passed
        clock.advance(seconds=1)
        await t.helpdesk.intake.recover()  # second attempt fails too
        clock.advance(seconds=6)
        await t.helpdesk.intake.recover()  # third succeeds, then the line behind it
        await t.helpdesk.sender.drain()
        assert t.new_for(t.customer) == [replies.GREETING, replies.GREETING]
        rows = await inbox_rows(t)
        assert [(r.status, r.attempts) for r in rows] == [("done", 3), ("done", 1)]
    finally:
        await t.helpdesk.close()


async def test_an_inbound_failing_every_attempt_is_kept_as_failed_and_the_customer_told_once(
    database_url: str, clock: FrozenClock, tmp_path: Path
) -> None:
    t, understander = await failing_transcript(database_url, clock, tmp_path, failures=None)
    try:
        await t.say("boom")
        for _ in range(10):
            clock.advance(minutes=2)
            await t.helpdesk.intake.recover()
        await t.helpdesk.sender.drain()
        assert understander.calls == 5
        assert t.new_for(t.customer) == [replies.UNKNOWN_ERROR]
        (row,) = await inbox_rows(t)
        assert (row.status, row.attempts) == ("failed", 5)
        assert row.error == "RuntimeError: the search index is being rebuilt"
        assert await t.say("hello") == [replies.GREETING]  # a failed line holds nothing back
    finally:
        await t.helpdesk.close()


async def test_recovery_leaves_alone_a_row_another_live_process_holds(
    database_url: str, clock: FrozenClock, tmp_path: Path
) -> None:
    first = await build_transcript(database_url, clock, tmp_path / "a")
    second = await build_transcript(database_url, clock, tmp_path / "b")
    gate = asyncio.Event()
    entered = asyncio.Event()

    class Slow(KeywordUnderstander):
        async def understand(self, text: str) -> Understanding:
            entered.set()
            await gate.wait()
            return await super().understand(text)

    first.helpdesk.intake._engine._understander = Slow()
    try:
        await first.helpdesk.intake.accept(hello(1, 1))
        await first.helpdesk.intake.accept(hello(2, 1))  # same conversation, behind it
        await entered.wait()
        assert await second.helpdesk.intake.recover() == 0
        gate.set()
        await first.helpdesk.intake.wait_idle()
        assert await greetings_delivered(first, second) == 2
    finally:
        await first.helpdesk.close()
        await second.helpdesk.close()


async def test_an_agents_reply_queued_with_the_customers_lines_lands_after_them(
    database_url: str, clock: FrozenClock, tmp_path: Path
) -> None:
    """Updates queued at the platform arrive in a burst after a restart: the customer's lines
    (slow: understanding) and an agent's reply in the case thread (fast) must reach the
    transcript in the order they were sent."""
    t = await build_transcript(database_url, clock, tmp_path)
    try:
        await t.say("human")
        await t.say("my hub is offline")
        thread = await t.thread_of(1)
        gate = asyncio.Event()

        class Slow(KeywordUnderstander):
            async def understand(self, text: str) -> Understanding:
                await gate.wait()
                return await super().understand(text)

        t.helpdesk.intake._engine._understander = Slow()
        intake = t.helpdesk.intake
        await intake.accept(t._inbound(text="it blinks red"))
        await intake.accept(t._inbound(text="since this morning"))
        await intake.accept(
            Inbound(
                kind=InboundKind.COMMAND,
                event_id="agent-1",
                channel=ChannelRef.parse(thread),
                user_id="dana",
                user_name="Dana",
                text="reply Please unplug it for ten seconds.",
                is_direct=False,
            )
        )
        for _ in range(50):  # let whatever can run run; the reply must still be waiting
            await asyncio.sleep(0.01)
        gate.set()
        await intake.wait_idle()
        async with t.helpdesk.sessions() as session:
            bodies = list(
                await session.scalars(
                    select(CaseEvent.body).where(CaseEvent.case_id == 1).order_by(CaseEvent.id)
                )
            )
        tail = [b for b in bodies if b in LINES]
        assert tail == LINES
    finally:
        await t.helpdesk.close()


LINES = ["it blinks red", "since this morning", "Please unplug it for ten seconds."]
