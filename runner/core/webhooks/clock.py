"""Time as a dependency: the dispatcher and the store read `clock()`, so tests move time by hand."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from runner.core.tables import utcnow

Clock = Callable[[], datetime]


class FakeClock:
    """A clock that only moves when told to. Thread-safe; starts at the real time by default,
    so signatures it stamps stay within a receiver's tolerance until it is advanced."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or utcnow()
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta | float) -> datetime:
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        with self._lock:
            self._now += step
            return self._now

    def set(self, value: datetime) -> None:
        with self._lock:
            self._now = value
