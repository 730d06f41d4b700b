"""The dispatcher: leases due deliveries, signs and POSTs them, and records what happened.

Start it from other code in a thread (`with dispatcher.in_background(): ...`, or
`threading.Thread(target=dispatcher.run_forever, args=(stop,))`), from asyncio
(`await asyncio.to_thread(dispatcher.run_forever, stop)` with a `threading.Event`), or run one
round with `run_once()`. Any number of dispatchers may share a database. A delivery's outcome
never touches the task: a failed webhook is the delivery's state, not the task's.

When idle, a running dispatcher waits for whichever comes first: a wake-up (a delivery committed
in this process; from any process, a NOTIFY on PostgreSQL or a commit seen by `PRAGMA
data_version` on SQLite: wakeup.py, listener.py, watcher.py), the next pending delivery's due
time (a retry), or `poll_interval` (the fallback).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from runner.core.accounts import Accounts
from runner.core.tables import utcnow
from runner.core.webhooks import signing
from runner.core.webhooks.clock import Clock
from runner.core.webhooks.events import DeliveryStatus
from runner.core.webhooks.outbox import NO_URL, in_task_order
from runner.core.webhooks.schedule import RetrySchedule, parse_retry_after
from runner.core.webhooks.sender import PostResult, Sender
from runner.core.webhooks.store import Claimed, DeliveryStore, Settlement
from runner.core.webhooks.wakeup import Wakeup

log = logging.getLogger(__name__)


class Listening(Protocol):
    """What a dispatcher needs of a listener: started with it, stopped with it."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


# A listener (listener.py, watcher.py) built for a running dispatcher: calls its argument on each
# wake-up.
Listen = Callable[[Callable[[], None]], Listening]
_MIN_WAIT = 0.05  # seconds: the shortest idle wait (a due row another transaction holds locked)


@dataclass(frozen=True)
class Sent:
    """One attempt made for a claimed delivery (or None in `post` when there was nowhere to send)."""

    claimed: Claimed
    url: str | None
    post: PostResult | None
    skip_reason: str | None = None


class Dispatcher:
    def __init__(
        self,
        store: DeliveryStore,
        sender: Sender,
        accounts: Accounts,
        *,
        schedule: RetrySchedule | None = None,
        clock: Clock = utcnow,
        name: str | None = None,
        batch: int = 8,
        lease: timedelta = timedelta(seconds=60),
        poll_interval: float = 1.0,
        wakeup: Wakeup | None = None,
        listen: Listen | None = None,
    ) -> None:
        self._store = store
        self._sender = sender
        self._accounts = accounts
        self._schedule = schedule or RetrySchedule()
        self._clock = clock
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._batch = batch
        self._lease = lease
        self._poll_interval = poll_interval
        self._woken = threading.Event()
        if wakeup is not None:
            wakeup.subscribe(self._woken)
        self._listen = listen

    # -- one round ------------------------------------------------------------------------

    def run_once(self) -> int:
        """Lease up to `batch` due deliveries, send them concurrently, settle them; how many."""
        claimed = self._store.claim(self.name, now=self._clock(), lease=self._lease, limit=self._batch)
        if len(claimed) == 1:
            self.settle(self._send_safely(claimed[0]))
        elif claimed:
            with ThreadPoolExecutor(max_workers=len(claimed), thread_name_prefix="webhook") as pool:
                # Settled one after the other: on SQLite, concurrent writers would sleep in its busy
                # handler (up to 100 ms a try).
                for sent in pool.map(self._send_safely, claimed):
                    self.settle(sent)
        return len(claimed)

    def _send_safely(self, claimed: Claimed) -> Sent:
        """`send`, with a bug or a broken secret counted as a failed attempt (not a stuck lease)."""
        try:
            return self.send(claimed)
        except Exception as exc:
            log.exception("webhook delivery could not be sent", extra={"delivery_id": claimed.id})
            return Sent(
                claimed, None, PostResult(None, 0, error=f"not sent: internal error ({type(exc).__name__})")
            )

    def run_until_idle(self, max_rounds: int = 1000) -> int:
        """Rounds until nothing is due now (`sopwright webhooks dispatch --once`); how many sent."""
        total = 0
        for _ in range(max_rounds):
            count = self.run_once()
            if count == 0:
                break
            total += count
        return total

    def send(self, claimed: Claimed) -> Sent:
        """Sign and POST one claimed delivery; nothing is recorded yet (see `settle`)."""
        account = self._store.account(claimed.account_id)
        if account is None or not account.webhook_url:
            return Sent(claimed, None, None, skip_reason=NO_URL)
        if account.webhook_disabled_at is not None:
            return Sent(
                claimed,
                account.webhook_url,
                None,
                skip_reason="The endpoint was disabled after it answered 410 Gone; set the webhook URL "
                "again to re-enable it, then redeliver.",
            )
        now = self._clock()
        secrets = self._accounts.webhook_secrets(account, now)
        body = signing.signed_body(in_task_order(claimed.payload), secrets)
        headers = signing.headers(claimed.id, now, body, secrets)
        post = self._sender.post(account.webhook_url, headers, body)
        return Sent(claimed, account.webhook_url, post)

    def settle(self, sent: Sent) -> None:
        """Record the attempt and decide: delivered, retry later, failed, or skipped."""
        now = self._clock()
        claimed, post = sent.claimed, sent.post
        if post is None:
            settlement = Settlement(DeliveryStatus.SKIPPED, error=sent.skip_reason)
        elif post.ok:
            settlement = Settlement(DeliveryStatus.DELIVERED)
        elif post.gone:
            settlement = Settlement(
                DeliveryStatus.FAILED,
                error="HTTP 410 Gone: the endpoint is disabled until its URL is set again.",
                disable_endpoint=True,
            )
        else:
            delay = self._schedule.next_delay(claimed.attempts + 1, parse_retry_after(post.retry_after, now))
            if delay is None:
                settlement = Settlement(DeliveryStatus.FAILED, error=post.error)
            else:
                settlement = Settlement(DeliveryStatus.PENDING, next_attempt_at=now + delay, error=post.error)
        held = self._store.settle(claimed, settlement, now=now, url=sent.url, post=post)
        log.info(
            "webhook attempt settled" + ("" if held else " (lease lost: another dispatcher owns it now)"),
            extra={
                "delivery_id": claimed.id,
                "account_id": claimed.account_id,
                "webhook_event": claimed.event,
                "attempt": claimed.attempts + (1 if post else 0),
                "delivery_status": settlement.status.value,
                "status_code": post.status_code if post else None,
                "latency_ms": post.latency_ms if post else None,
            },
        )
        if held and settlement.disable_endpoint:
            log.warning("webhook endpoint disabled after 410 Gone", extra={"account_id": claimed.account_id})

    # -- long-running ---------------------------------------------------------------------

    def run_forever(self, stop: threading.Event) -> None:
        """Dispatch until `stop` is set (then call `wake()` to end an idle wait at once).

        Rounds run back to back while they claim full batches; otherwise the dispatcher waits
        until it is woken, the next delivery is due, or `poll_interval` has passed.
        """
        log.info("webhook dispatcher started", extra={"dispatcher": self.name})
        with self._listening():
            while not stop.is_set():
                self._woken.clear()  # before the round: a wake-up during it means "look again"
                try:
                    # A full batch: more may be due now. Otherwise anything committed since the
                    # claim has rung the bell, and a retry due meanwhile shows in `_idle_wait`.
                    wait = 0.0 if self.run_once() >= self._batch else self._idle_wait()
                except Exception:
                    log.exception(
                        "webhook dispatcher round failed; retrying shortly", extra={"dispatcher": self.name}
                    )
                    wait = self._poll_interval
                if wait > 0:
                    self._woken.wait(wait)
        log.info("webhook dispatcher stopped", extra={"dispatcher": self.name})

    def wake(self) -> None:
        """Look for due deliveries now instead of at the end of the idle wait (thread-safe)."""
        self._woken.set()

    def _idle_wait(self) -> float:
        """Seconds until the next pending delivery is due, at most `poll_interval`."""
        due = self._store.next_due()
        if due is None:
            return self._poll_interval
        return min(self._poll_interval, max(_MIN_WAIT, (due - self._clock()).total_seconds()))

    @contextmanager
    def _listening(self) -> Iterator[None]:
        if self._listen is None:
            yield
            return
        listener = self._listen(self.wake)
        listener.start()
        try:
            yield
        finally:
            listener.stop()

    @contextmanager
    def in_background(self) -> Iterator[threading.Thread]:
        """Run in a daemon thread for the duration of the block; stopped and joined on exit."""
        stop = threading.Event()
        thread = threading.Thread(
            target=self.run_forever, args=(stop,), name=f"webhooks-{self.name}", daemon=True
        )
        thread.start()
        try:
            yield thread
        finally:
            stop.set()
            self.wake()
            thread.join(timeout=30)
