"""The outbox's retry schedule: exponential from a couple of seconds, capped at five minutes,
jittered so senders that failed together don't retry together; a platform's Retry-After wins."""

from __future__ import annotations

import random

from bot.delivery import RetryPolicy


def test_backoff_grows_exponentially_then_stays_under_the_cap() -> None:
    policy, rng = RetryPolicy(), random.Random(1)
    delays = [policy.delay(attempt, None, rng) for attempt in range(1, 40)]
    assert 1.0 <= delays[0] <= 2.0
    assert 2.0 <= delays[1] <= 4.0 and 4.0 <= delays[2] <= 8.0
    assert all(150.0 <= d <= 300.0 for d in delays[9:])  # capped at five minutes
    assert len({round(d) for d in delays[9:]}) > 20  # jittered


def test_retry_after_from_the_platform_is_honoured_even_past_the_cap() -> None:
    policy, rng = RetryPolicy(), random.Random(1)
    assert policy.delay(3, 42.0, rng) == 42.0
    assert policy.delay(3, 900.0, rng) == 900.0
    assert policy.delay(3, 0.0, rng) == 1.0  # "now" would spin
