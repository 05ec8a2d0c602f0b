"""One asyncio lock per key (a conversation), kept only while someone holds or waits for it.

A ``defaultdict(asyncio.Lock)`` keeps a lock for every conversation the process ever saw; a
long-running worker would grow it without end. Here a key's lock goes once its last user
leaves.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class KeyedLocks:
    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._locks[key]

    def __len__(self) -> int:
        """How many keys have a lock now (held or waited for)."""
        return len(self._locks)
