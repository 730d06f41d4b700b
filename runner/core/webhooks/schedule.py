"""When to try again: Svix's schedule with jitter, stretched (never shortened) by `Retry-After`."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

# Delay before attempt n+1 (attempt 1 is immediate): 8 attempts over about 27.6 hours.
SVIX_DELAYS: tuple[timedelta, ...] = (
    timedelta(0),
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)


@dataclass
class RetrySchedule:
    delays: Sequence[timedelta] = SVIX_DELAYS
    jitter: float = 0.2  # each delay is multiplied by a random factor in [1 - jitter, 1 + jitter]
    max_retry_after: timedelta = timedelta(hours=10)  # a longer Retry-After is capped here
    rng: random.Random = field(default_factory=random.Random)

    @property
    def max_attempts(self) -> int:
        return len(self.delays)

    def next_delay(self, attempts_done: int, retry_after: timedelta | None = None) -> timedelta | None:
        """The wait after `attempts_done` failed attempts, or None when they are exhausted."""
        if attempts_done >= self.max_attempts:
            return None
        base = self.delays[attempts_done]
        delay = base * self.rng.uniform(1 - self.jitter, 1 + self.jitter)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.max_retry_after))
        return delay


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """`Retry-After` as seconds or an HTTP date; None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when - now, timedelta(0))
