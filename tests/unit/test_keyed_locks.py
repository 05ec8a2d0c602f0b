"""Per-conversation locks: one holder at a time per key, other keys not held up, and no lock
kept for a conversation nobody is handling (a worker sees millions of them over its life)."""

from __future__ import annotations

import asyncio

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
