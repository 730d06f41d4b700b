from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from runner.core.webhooks.schedule import SVIX_DELAYS, RetrySchedule, parse_retry_after

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)


def test_the_schedule_is_svix_eight_attempts() -> None:
    assert [d.total_seconds() for d in SVIX_DELAYS] == [0, 5, 300, 1800, 7200, 18000, 36000, 36000]
    assert RetrySchedule().max_attempts == 8


@pytest.mark.parametrize("attempts_done", range(1, 8))
def test_delays_are_jittered_within_bounds(attempts_done: int) -> None:
    schedule = RetrySchedule(rng=random.Random(attempts_done))
    base = SVIX_DELAYS[attempts_done]
    for _ in range(50):
        delay = schedule.next_delay(attempts_done)
        assert delay is not None
        assert base * 0.8 <= delay <= base * 1.2


def test_no_jitter_gives_the_exact_schedule() -> None:
    schedule = RetrySchedule(jitter=0)
    assert [schedule.next_delay(n) for n in range(1, 8)] == list(SVIX_DELAYS[1:])


def test_exhausted_after_the_last_attempt() -> None:
    assert RetrySchedule().next_delay(8) is None


def test_retry_after_stretches_but_never_shortens_and_is_capped() -> None:
    schedule = RetrySchedule(jitter=0)
    assert schedule.next_delay(1, timedelta(seconds=120)) == timedelta(seconds=120)
    assert schedule.next_delay(2, timedelta(seconds=1)) == timedelta(minutes=5)
    assert schedule.next_delay(1, timedelta(days=3)) == timedelta(hours=10)


def test_parse_retry_after() -> None:
    assert parse_retry_after("30", NOW) == timedelta(seconds=30)
    assert parse_retry_after("Fri, 20 Mar 2026 12:01:00 GMT", NOW) == timedelta(minutes=1)
    assert parse_retry_after("Fri, 20 Mar 2026 11:00:00 GMT", NOW) == timedelta(0)
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None
