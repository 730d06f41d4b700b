"""Test events on demand (`POST /webhooks/test`): sent on threads of their own, briefly, rarely.

A test event is one POST to the account's endpoint while the caller waits. Sent on the request
thread pool, a slow endpoint held a pool thread per test, and a burst of tests slowed every
account's requests. Here each test runs on a small pool of its own, with a short timeout, one at
a time per account (in this process) and at most `per_minute` per account (counted in the
delivery log, so across processes too). A refusal is a `RateLimited` naming when to try again.
"""

from __future__ import annotations

import asyncio
import math
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from runner.core.errors import RateLimited
from runner.core.tables import WebhookAttempt, WebhookDelivery, utcnow
from runner.core.webhooks.clock import Clock
from runner.core.webhooks.events import WebhookEvent
from runner.core.webhooks.service import SentTestEvent, Webhooks

WINDOW = timedelta(minutes=1)


@dataclass(frozen=True)
class Tested:
    """A test event as sent and logged."""

    sent: SentTestEvent
    delivery: WebhookDelivery
    attempts: list[WebhookAttempt]


class WebhookTester:
    def __init__(
        self,
        webhooks: Webhooks,
        *,
        timeout: float = 5.0,
        per_minute: int = 5,
        workers: int = 4,
        clock: Clock = utcnow,
    ) -> None:
        self._webhooks = webhooks
        self.timeout = timeout
        self.per_minute = per_minute
        self._clock = clock
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="webhook-test")
        self._busy: set[str] = set()
        self._lock = threading.Lock()

    async def send(self, account_id: str) -> Tested:
        """Send the account's test event off the request pool; RateLimited if it must wait."""
        with self._lock:
            if account_id in self._busy:
                raise RateLimited(
                    "A test event for this account is being sent: wait for its result.",
                    retry_after=math.ceil(self.timeout),
                )
            self._busy.add(account_id)
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, self.send_now, account_id)
        finally:
            with self._lock:
                self._busy.discard(account_id)

    def send_now(self, account_id: str) -> Tested:
        """The test event, sent on the calling thread (within the per-minute limit)."""
        now = self._clock()
        recent = self._webhooks.store.sent_since(account_id, WebhookEvent.WEBHOOK_TEST, now - WINDOW)
        if len(recent) >= self.per_minute:
            wait = max(1, math.ceil((min(recent) + WINDOW - now).total_seconds()))
            raise RateLimited(
                f"At most {self.per_minute} test events a minute per account: try again in {wait} s.",
                retry_after=wait,
            )
        sent = self._webhooks.send_test(account_id, timeout=self.timeout)
        delivery, attempts = self._webhooks.get(account_id, sent.delivery.id)
        return Tested(sent, delivery, attempts)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
