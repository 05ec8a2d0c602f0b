"""A limit on sign-in attempts: at most ``limit`` failures per client address and per
account in a sliding ``window``. Kept in the web process's memory: each process counts its
own, so behind a load balancer with several web processes the bound is per process."""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta


class AttemptLimit:
    def __init__(self, *, limit: int = 5, window: timedelta = timedelta(minutes=15)) -> None:
        self._limit = limit
        self._window = window
        self._failures: dict[str, deque[datetime]] = {}

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self._window:
            failures.popleft()
        if not failures:
            del self._failures[key]  # bounded memory: only keys with recent failures stay
            return deque()
        return failures

    def blocked(self, keys: list[str], now: datetime) -> bool:
        return any(len(self._recent(key, now)) >= self._limit for key in keys)

    def failed(self, keys: list[str], now: datetime) -> None:
        for key in keys:
            self._failures.setdefault(key, deque()).append(now)
