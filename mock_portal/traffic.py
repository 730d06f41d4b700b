"""What the portal remembers about callers: request rate, suspicious signals, CAPTCHA passes, and how
many pages it served (for benchmarks: page loads per task)."""

from __future__ import annotations

import random
from collections import Counter, deque
from datetime import datetime, timedelta


class Traffic:
    def __init__(self) -> None:
        self._hits: dict[str, deque[datetime]] = {}
        self._failed_logins: Counter[str] = Counter()
        self._rate_limited: set[str] = set()
        self._captcha_passed: set[str] = set()
        self._requests = 0
        self._page_loads: Counter[tuple[str, str]] = Counter()

    def page_loaded(self, payer: str, dest: str) -> None:
        """Count one page request of `payer`: `dest` "document" (a page) or "iframe" (a frame)."""
        self._page_loads[(payer, dest)] += 1

    def page_loads(self) -> dict[str, dict[str, int]]:
        """Page requests since the last reset: {payer: {"document": n, "iframe": n}}."""
        counts: dict[str, dict[str, int]] = {}
        for (payer, dest), n in sorted(self._page_loads.items()):
            counts.setdefault(payer, {})[dest] = n
        return counts

    def over_limit(self, client: str, now: datetime, per_minute: int) -> bool:
        """Count this request; True when the client made more than `per_minute` in the last minute."""
        if per_minute <= 0:
            return False
        hits = self._hits.setdefault(client, deque())
        while hits and now - hits[0] > timedelta(minutes=1):
            hits.popleft()
        hits.append(now)
        if len(hits) > per_minute:
            self._rate_limited.add(client)
            return True
        return False

    def injected_failure(self, rate: float, seed: int) -> bool:
        """Deterministic per reset and seed: the n-th request fails when its draw is under `rate`."""
        self._requests += 1
        return rate > 0 and random.Random(f"{seed}:{self._requests}").random() < rate

    def login_failed(self, client: str) -> None:
        self._failed_logins[client] += 1

    def needs_captcha(self, client: str, mode: str) -> bool:
        if mode == "off" or client in self._captcha_passed:
            return False
        if mode == "always":
            return True
        return self._failed_logins[client] >= 2 or client in self._rate_limited

    def captcha_passed(self, client: str) -> None:
        self._captcha_passed.add(client)
        self._failed_logins[client] = 0
        self._rate_limited.discard(client)

    def signed_in(self, client: str) -> None:
        """A successful sign-in uses up a CAPTCHA pass (mode "always" asks again next time)."""
        self._captcha_passed.discard(client)
