"""What the portal remembers about callers: request rate, suspicious signals, CAPTCHA passes, and
the page loads browsers made (for benchmarks: how many documents a task costs the portal)."""

from __future__ import annotations

import random
from collections import Counter, deque
from datetime import datetime, timedelta
from typing import Any

RECENT_LOADS = 500


class Traffic:
    def __init__(self) -> None:
        self._hits: dict[str, deque[datetime]] = {}
        self._failed_logins: Counter[str] = Counter()
        self._rate_limited: set[str] = set()
        self._captcha_passed: set[str] = set()
        self._requests = 0
        self._loads: Counter[tuple[str, str]] = Counter()
        self._recent: deque[tuple[str, str, str, str]] = deque(maxlen=RECENT_LOADS)

    def page_load(self, payer: str, dest: str, method: str, path: str) -> None:
        """A browser navigation (`Sec-Fetch-Mode: navigate`) of a page (`dest` document) or frame
        (`iframe`); each redirect hop is one."""
        self._loads[(payer, dest)] += 1
        self._recent.append((payer, dest, method, path))

    def page_loads(self) -> dict[str, Any]:
        counts: dict[str, dict[str, int]] = {}
        for (payer, dest), n in sorted(self._loads.items()):
            counts.setdefault(payer, {})[dest] = n
        recent = [{"payer": p, "dest": d, "method": m, "path": path} for p, d, m, path in self._recent]
        return {"page_loads": counts, "recent": recent}

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
