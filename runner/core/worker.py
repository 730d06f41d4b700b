"""The worker: claims due tasks and runs up to N at once in one process (asyncio, one browser).

`run(once=True)` drains what is due and returns (cron); otherwise it runs until `stop` is set
(SIGTERM/SIGINT in the CLI), then stops claiming, lets running tasks finish for a grace period,
and gives the rest back to the queue. The store is synchronous; it is called off the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from runner.core.browser import Browser, BrowserUnavailable
from runner.core.metrics import AttemptOutcome, WorkerMetrics
from runner.core.queue import Lease, LeaseLost, Queue
from runner.core.tables import Task, utcnow

log = logging.getLogger(__name__)

BROWSER_RETRY_SECONDS = 15
Background = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


class Attempts(Protocol):
    """What the worker needs of its executor (`runner.core.execution.Executor`)."""

    async def run(self, lease: Lease, task: Task, browser: Browser) -> bool:
        """One attempt at the claimed `task`; False if it was deferred without spending one."""
        ...

    def crashed(self, lease: Lease, error: BaseException) -> object:
        """Settle an attempt that crashed outside the SOP run (LeaseLost if no longer ours)."""
        ...


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class WorkerStats:
    claimed: int = 0
    finished: int = 0
    released: int = 0
    lost: int = 0
    reaped: int = 0
    deferred: int = 0


class Worker:
    def __init__(
        self,
        queue: Queue,
        executor: Attempts,
        browser: Browser,
        *,
        concurrency: int = 4,
        poll_interval: float = 1.0,
        reap_interval: float = 15.0,
        grace_seconds: float = 30.0,
        owner: str | None = None,
        background: Sequence[Background] = (),
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self._queue = queue
        self._executor = executor
        self._browser = browser
        self._concurrency = concurrency
        self._poll_interval = poll_interval
        self._reap_interval = reap_interval
        self._grace = grace_seconds
        self.owner = owner or worker_id()
        self._background = background
        self.stats = WorkerStats()
        self.metrics = WorkerMetrics(contexts_in_use=lambda: browser.in_use)

    async def run(self, *, once: bool = False, stop: asyncio.Event | None = None) -> WorkerStats:
        stop = stop or asyncio.Event()
        running: set[asyncio.Task[None]] = set()
        helpers = [asyncio.create_task(job(stop)) for job in self._background]
        await self._browser.start()
        log.info("worker started", extra={"worker": self.owner, "concurrency": self._concurrency})
        try:
            last_reap = -self._reap_interval
            while not stop.is_set():
                if time.monotonic() - last_reap >= self._reap_interval:
                    self.stats.reaped += await asyncio.to_thread(self._queue.reap)
                    last_reap = time.monotonic()
                free = self._concurrency - len(running)
                claimed = await asyncio.to_thread(self._queue.claim, self.owner, free) if free else []
                self.stats.claimed += len(claimed)
                for lease, task in claimed:
                    self.metrics.claimed(task)
                    job = asyncio.create_task(self._execute(lease, task), name=f"task-{lease.task_id}")
                    running.add(job)
                    job.add_done_callback(running.discard)
                if once and not running and not claimed:
                    due = await asyncio.to_thread(self._queue.next_due_in)
                    if due is None or due > 0:
                        break
                busy = len(running) >= self._concurrency
                await _wait_any(running, stop, self._reap_interval if busy else self._poll_interval)
        finally:
            await self._drain(running)
            stop.set()
            for helper in helpers:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(helper, timeout=self._grace)
            await self._browser.stop()
            log.info("worker stopped", extra={"worker": self.owner, **self.stats.__dict__})
        return self.stats

    async def _drain(self, running: set[asyncio.Task[None]]) -> None:
        """Let running tasks finish within the grace period; cancel (and release) the rest."""
        if not running:
            return
        _done, pending = await asyncio.wait(set(running), timeout=self._grace)
        for job in pending:
            job.cancel()
        if pending:
            await asyncio.wait(pending)

    async def _execute(self, lease: Lease, task: Task) -> None:
        job = asyncio.current_task()
        assert job is not None
        beat = asyncio.create_task(self._heartbeat(lease, job))
        started, outcome = self.metrics.started(), AttemptOutcome.CRASHED
        try:
            if await self._executor.run(lease, task, self._browser):
                self.stats.finished += 1
                outcome = AttemptOutcome.FINISHED
            else:
                self.stats.deferred += 1
                outcome = AttemptOutcome.DEFERRED
        except LeaseLost:
            self.stats.lost += 1
            outcome = AttemptOutcome.LOST
            log.warning("lease lost; the task is someone else's now", extra={"task_id": lease.task_id})
        except asyncio.CancelledError:
            outcome = AttemptOutcome.RELEASED
            released = await asyncio.to_thread(self._queue.release, lease, reason="The worker stopped.")
            self.stats.released += int(released)
            raise
        except BrowserUnavailable as exc:
            # Every browser server is down or full: not the task's fault, so no attempt is spent.
            outcome = AttemptOutcome.DEFERRED
            log.warning("no browser for the task; giving it back", extra={"task_id": lease.task_id})
            await asyncio.to_thread(
                self._queue.release,
                lease,
                reason=exc.message,
                run_after=utcnow() + timedelta(seconds=BROWSER_RETRY_SECONDS),
                unused=True,
            )
        except Exception as exc:
            # A crash outside the SOP run (e.g. the browser would not open a context): retried on
            # the SOP's back-off, not at once, and failed once its attempts are spent.
            log.exception("task attempt crashed", extra={"task_id": lease.task_id})
            with contextlib.suppress(LeaseLost):
                await asyncio.to_thread(self._executor.crashed, lease, exc)
        finally:
            self.metrics.ended(started, task_type=task.type, lane=task.priority, outcome=outcome)
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat

    async def _heartbeat(self, lease: Lease, job: asyncio.Task[None]) -> None:
        interval = max(0.5, self._queue.lease_seconds / 3)
        while True:
            await asyncio.sleep(interval)
            try:
                await asyncio.to_thread(self._queue.heartbeat, lease)
            except LeaseLost:
                job.cancel()
                return
            except Exception:
                # The database blinked (restart, failover). Beats come every third of the lease,
                # so the next one can still save it; if not, the lease is lost and fenced.
                log.warning("heartbeat failed; trying again", extra={"task_id": lease.task_id}, exc_info=True)


async def _wait_any(running: set[asyncio.Task[None]], stop: asyncio.Event, timeout: float | None) -> None:
    stopper = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({*running, stopper}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await stopper
