"""How long and how often a failing outbox row is retried before it is parked."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class RetryPolicy:
    """How long and how often a failing row is retried before it is parked."""

    base_seconds: float = 2.0
    cap_seconds: float = 300.0
    give_up_after: timedelta = timedelta(hours=24)

    def delay(self, attempts: int, retry_after: float | None, rng: random.Random) -> float:
        if retry_after is not None:
            return max(retry_after, 1.0)
        ceiling = min(self.cap_seconds, self.base_seconds * 2 ** min(attempts - 1, 30))
        # jitter: senders that failed together during an outage don't retry in lockstep
        return ceiling * (0.5 + rng.random() / 2)
