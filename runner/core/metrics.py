"""Prometheus metrics: fleet-wide figures read from the database, and one worker's own figures.

Two kinds, kept apart on purpose:

- `FleetCollector` runs a few aggregate queries at scrape time (tasks by status and type,
  attempts and retries, the oldest due task, webhook deliveries and attempts). The figures are
  the same whichever process is scraped: aggregate them with `max`, not `sum`.
- `WorkerMetrics` belongs to one `Worker` (claim latency, attempt duration, tasks in flight,
  browser contexts in use). It is a collector that is registered nowhere until the CLI puts it in
  the process's default registry (`process_wide`), so tests stay isolated.

`scrape_registry` joins the two for an endpoint: the fleet's figures plus the process's default
registry (the in-process worker of `sopwright serve`, and Python's process and GC figures).
Labels are task types, statuses, lanes (`interactive`, `batch`), attempt outcomes and portal keys
(the host of a login URL, one per portal) only: no account, no PHI, bounded cardinality.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from prometheus_client import REGISTRY, CollectorRegistry, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlmodel import Session, col, select

from runner.core.breaker import PortalState
from runner.core.db import session_scope
from runner.core.states import Priority, TaskStatus
from runner.core.tables import PortalHealth, Task, WebhookAttempt, WebhookDelivery, utcnow
from runner.core.tables.base import as_utc
from runner.core.webhooks.events import DeliveryStatus
from sops.types import TaskType

log = logging.getLogger(__name__)

CLAIM_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
DURATION_BUCKETS = (1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800)


class AttemptOutcome(StrEnum):
    """How an attempt ended, seen from the worker (the task's new status is in `sopwright_tasks`)."""

    FINISHED = "finished"  # the executor wrote an outcome (final, waiting, review or retry later)
    RELEASED = "released"  # the worker stopped and gave the task back
    LOST = "lost"  # the lease was taken away (reaped)
    CRASHED = "crashed"  # an unexpected error outside the SOP run; retried after a back-off
    DEFERRED = (
        "deferred"  # never started: the portal login stayed busy or the portal is down; back to the queue
    )


class FleetCollector(Collector):
    """Figures for every worker sharing the database, queried when scraped."""

    def __init__(self, engine: sa.Engine, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._engine = engine
        self._clock = clock

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily("sopwright_database_up", "1 if the fleet figures could be read.")
        try:
            families = self._read()
        except Exception as exc:
            # The process's own figures are still worth serving: say the database is down.
            log.warning("metrics: database unreadable", extra={"error": type(exc).__name__})
            up.add_metric([], 0)
            return [up]
        up.add_metric([], 1)
        return [up, *families]

    def _read(self) -> list[Metric]:
        now = self._clock()
        due_since = sa.func.coalesce(col(Task.run_after), col(Task.created_at))
        attempts = sa.func.coalesce(sa.func.sum(col(Task.attempts)), 0)
        retries = sa.func.coalesce(
            sa.func.sum(sa.case((col(Task.attempts) > 1, col(Task.attempts) - 1), else_=0)), 0
        )
        not_2xx = sa.case((col(WebhookAttempt.status_code).between(200, 299), 0), else_=1)
        with session_scope(self._engine, readonly=True) as session:
            by_status = session.execute(
                select(Task.status, Task.type, Task.priority, sa.func.count()).group_by(
                    col(Task.status), col(Task.type), col(Task.priority)
                )
            ).all()
            by_type = session.execute(select(Task.type, attempts, retries).group_by(col(Task.type))).all()
            oldest = session.execute(
                select(Task.priority, sa.func.min(due_since))
                .where(col(Task.status) == TaskStatus.PENDING)
                .where(due_since <= now)
                .group_by(col(Task.priority))
            ).all()
            deliveries = session.execute(
                select(WebhookDelivery.status, sa.func.count()).group_by(col(WebhookDelivery.status))
            ).all()
            sent, failed = session.execute(
                select(sa.func.count(), sa.func.coalesce(sa.func.sum(not_2xx), 0)).select_from(WebhookAttempt)
            ).one()
            portals = _portal_families(session, now)

        tasks = GaugeMetricFamily(
            "sopwright_tasks", "Tasks by status, type and lane.", labels=["status", "type", "lane"]
        )
        counts = {(str(s), str(t), str(p)): int(n) for s, t, p, n in by_status}
        for status in TaskStatus:
            for task_type in TaskType:
                for lane in Priority:
                    key = (status.value, task_type.value, lane.value)
                    tasks.add_metric(list(key), counts.get(key, 0))
        made = CounterMetricFamily(
            "sopwright_task_attempts", "Attempts claimed by workers, by task type.", labels=["type"]
        )
        retried = CounterMetricFamily(
            "sopwright_task_retries", "Attempts beyond each task's first, by task type.", labels=["type"]
        )
        per_type = {t: (int(a), int(r)) for t, a, r in by_type}
        for task_type in TaskType:
            a, r = per_type.get(task_type.value, (0, 0))
            made.add_metric([task_type.value], a)
            retried.add_metric([task_type.value], r)
        age = GaugeMetricFamily(
            "sopwright_queue_oldest_due_seconds",
            "How long the longest-waiting due pending task of each lane has waited.",
            labels=["lane"],
        )
        waited = {str(lane): as_utc(at) for lane, at in oldest}
        for lane in Priority:
            since = waited.get(lane.value)
            age.add_metric([lane.value], max(0.0, (now - since).total_seconds()) if since else 0.0)
        outbox = GaugeMetricFamily(
            "sopwright_webhook_deliveries", "Webhook deliveries by status.", labels=["status"]
        )
        by_delivery = {s: int(n) for s, n in deliveries}
        for delivery in DeliveryStatus:
            outbox.add_metric([delivery], by_delivery.get(delivery, 0))
        posts = CounterMetricFamily("sopwright_webhook_attempts", "Webhook POSTs made.")
        posts.add_metric([], int(sent))
        refused = CounterMetricFamily(
            "sopwright_webhook_attempt_failures", "Webhook POSTs without a 2xx answer (or with no answer)."
        )
        refused.add_metric([], int(failed))
        return [tasks, made, retried, age, outbox, posts, refused, *portals]


def _portal_families(session: Session, now: datetime) -> list[Metric]:
    """Each portal's breaker (portal_health.py), labelled by portal key."""
    held = dict(
        session.execute(
            select(Task.held_for_portal, sa.func.count())
            .where(col(Task.held_for_portal).is_not(None))
            .where(col(Task.status) == TaskStatus.PENDING)
            .group_by(col(Task.held_for_portal))
        ).all()
    )
    up = GaugeMetricFamily(
        "sopwright_portal_up", "0 while a portal's breaker holds it down.", labels=["portal"]
    )
    faults = GaugeMetricFamily(
        "sopwright_portal_consecutive_faults", "Portal-side faults in a row, across tasks.", labels=["portal"]
    )
    down = GaugeMetricFamily(
        "sopwright_portal_down_seconds", "How long a portal has been down (0 when up).", labels=["portal"]
    )
    waiting = GaugeMetricFamily(
        "sopwright_portal_held_tasks",
        "Tasks waiting for a down portal (no attempt spent).",
        labels=["portal"],
    )
    for row in session.exec(select(PortalHealth).order_by(col(PortalHealth.key))):
        since = as_utc(row.down_since)
        is_up = row.state == PortalState.UP.value
        up.add_metric([row.key], 1 if is_up else 0)
        faults.add_metric([row.key], row.consecutive_faults)
        down.add_metric([row.key], 0.0 if is_up or since is None else max(0.0, (now - since).total_seconds()))
        waiting.add_metric([row.key], int(held.get(row.key, 0)))
    return [up, faults, down, waiting]


class WorkerMetrics(Collector):
    """One worker's figures: observed as it claims and runs tasks."""

    def __init__(self, *, contexts_in_use: Callable[[], int] | None = None) -> None:
        self.claim_latency = Histogram(
            "sopwright_claim_latency_seconds",
            "From a task being due (run_after, else created_at) to its claim.",
            ["type", "lane"],
            buckets=CLAIM_BUCKETS,
            registry=None,
        )
        self.attempt_duration = Histogram(
            "sopwright_task_attempt_duration_seconds",
            "One attempt, claim to end, by task type, lane and outcome (finished, released, lost, crashed).",
            ["type", "lane", "outcome"],
            buckets=DURATION_BUCKETS,
            registry=None,
        )
        self.in_flight = Gauge(
            "sopwright_worker_tasks_in_flight", "Tasks this worker is running.", registry=None
        )
        self._contexts_in_use = contexts_in_use

    def claimed(self, task: Task) -> None:
        """Record how long a just-claimed task waited (its `updated_at` is the claim's time)."""
        due = as_utc(task.run_after) or as_utc(task.created_at)
        claimed_at = as_utc(task.updated_at)
        if due is not None and claimed_at is not None:
            waited = max(0.0, (claimed_at - due).total_seconds())
            self.claim_latency.labels(type=task.type, lane=task.priority).observe(waited)

    def started(self) -> float:
        """An attempt begins: count it in flight; pass the returned mark to `ended`."""
        self.in_flight.inc()
        return time.monotonic()

    def ended(self, started: float, *, task_type: str, lane: str, outcome: AttemptOutcome) -> None:
        self.in_flight.dec()
        elapsed = time.monotonic() - started
        self.attempt_duration.labels(type=task_type, lane=lane, outcome=outcome.value).observe(elapsed)

    def collect(self) -> Iterable[Metric]:
        yield from self.claim_latency.collect()
        yield from self.attempt_duration.collect()
        yield from self.in_flight.collect()
        if self._contexts_in_use is not None:
            contexts = GaugeMetricFamily(
                "sopwright_browser_contexts_in_use", "Browser contexts this worker has open."
            )
            contexts.add_metric([], self._contexts_in_use())
            yield contexts


class _Default(Collector):
    """The process's default registry, as one collector of another registry."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def scrape_registry(engine: sa.Engine) -> CollectorRegistry:
    """What an endpoint serves: the fleet's figures and this process's own."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FleetCollector(engine))
    registry.register(_Default())
    return registry


@contextlib.contextmanager
def process_wide(worker: WorkerMetrics) -> Iterator[None]:
    """Show a worker's figures on this process's endpoints while it runs (one worker per process)."""
    REGISTRY.register(worker)
    try:
        yield
    finally:
        REGISTRY.unregister(worker)
