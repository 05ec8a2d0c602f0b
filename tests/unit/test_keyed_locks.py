"""Per-conversation locks: one holder at a time per key, other keys not held up, and no lock
kept for a conversation nobody is handling (a worker sees millions of them over its life)."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.dialogs.keyed_locks import KeyedLocks


async def test_one_holder_per_key_and_other_keys_go_on() -> None:
    locks = KeyedLocks()
    order: list[str] = []
    first_in = asyncio.Event()
    release_first = asyncio.Event()

    async def first() -> None:
        async with locks.hold("a"):
            order.append("a1 in")
            first_in.set()
            await release_first.wait()
            order.append("a1 out")

    async def second() -> None:
        async with locks.hold("a"):
            order.append("a2 in")

    async def other() -> None:
        async with locks.hold("b"):
            order.append("b in")

    task = asyncio.create_task(first())
    await first_in.wait()
    waiting = asyncio.create_task(second())
    await other()  # another conversation is not held up by "a"
    await asyncio.sleep(0)
    assert order == ["a1 in", "b in"]
    release_first.set()
    await asyncio.gather(task, waiting)
    assert order == ["a1 in", "b in", "a1 out", "a2 in"]


async def test_no_lock_is_kept_once_a_conversation_is_done() -> None:
    locks = KeyedLocks()
    for n in range(1000):
        async with locks.hold(f"conversation-{n}"):
            assert len(locks) == 1
    assert len(locks) == 0


async def test_a_failing_holder_still_releases_its_key() -> None:
    locks = KeyedLocks()
    try:
        async with locks.hold("a"):
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert len(locks) == 0
    async with locks.hold("a"):  # and the key can be taken again
        assert len(locks) == 1


async def test_the_dialog_engine_keeps_no_lock_per_conversation_it_has_handled() -> None:
    """The engine's lock map, after many customers: empty, not one entry per conversation."""
    from bot.clock import FrozenClock
    from bot.dialogs.engine import DialogEngine
    from bot.messages import ChannelRef, Inbound, InboundKind
    from tests.support.desk import KeywordUnderstander, test_desk

    def unused_uow() -> Any:
        raise AssertionError("bad input is answered before any unit of work")

    engine = DialogEngine(
        uow_factory=unused_uow,
        understander=KeywordUnderstander(),
        desk=test_desk(),
        clock=FrozenClock(),
    )
    seen: list[int] = []

    class Recording:
        async def __aenter__(self) -> Recording:
            seen.append(engine.conversations_in_hand)
            return self

        async def __aexit__(self, *_: object) -> None:
            return None

        def send(self, *_: object, **__: object) -> None:
            return None

        async def commit(self) -> None:
            return None

    for n in range(100):
        inbound = Inbound(
            kind=InboundKind.MESSAGE,
            event_id=f"e{n}",
            channel=ChannelRef.parse(f"fake:dm-{n}"),
            user_id=f"u{n}",
            user_name="Someone",
            text="",  # an empty message: answered at once, no database needed
        )
        await engine.handle(inbound, uow_factory=lambda: Recording())  # type: ignore[arg-type, return-value]
    assert seen == [1] * 100  # each held its own lock while handled
    assert engine.conversations_in_hand == 0
