"""A per-client limit on failed sign-ins, beside the per-login lockout.

The lockout protects one login; this protects all of them from one client trying many e-mails
(password spraying), and it does not tell which e-mails exist. Counted per client address in this
process (behind a proxy other than 127.0.0.1, set FORWARDED_ALLOW_IPS so uvicorn reads X-Forwarded-For).
Memory is bounded: at most `max_clients` addresses are remembered, the stalest forgotten first.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

MAX_FAILURES = 20
WINDOW_SECONDS = 15 * 60.0
MAX_CLIENTS = 10_000


class SignInThrottle:
    def __init__(
        self,
        *,
        max_failures: int = MAX_FAILURES,
        window: float = WINDOW_SECONDS,
        max_clients: int = MAX_CLIENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max_failures = max_failures
        self._window = window
        self._max_clients = max_clients
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> int | None:
        """Seconds until `client` may try again, or None if it may try now."""
        with self._lock:
            recent = self._recent(client)
            if recent is None or len(recent) < self._max_failures:
                return None
            return max(1, math.ceil(recent[0] + self._window - self._clock()))

    def failed(self, client: str) -> None:
        with self._lock:
            recent = self._recent(client)
            if recent is None:
                recent = self._failures[client] = deque(maxlen=self._max_failures)
                while len(self._failures) > self._max_clients:
                    self._failures.popitem(last=False)
            self._failures.move_to_end(client)
            recent.append(self._clock())

    def _recent(self, client: str) -> deque[float] | None:
        recent = self._failures.get(client)
        if recent is None:
            return None
        cutoff = self._clock() - self._window
        while recent and recent[0] <= cutoff:
            recent.popleft()
        if not recent:
            del self._failures[client]
            return None
        return recent
