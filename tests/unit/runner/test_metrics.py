"""Prometheus metrics: the fleet's figures from the database (both backends), a worker's own
figures as it claims and runs tasks (a fake executor, no browser), and the two endpoints."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import threading
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import typer
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from runner.cli.worker import metrics_server
from runner.core.browser import Browser
from runner.core.db import session_scope
from runner.core.fake_browser import FakeBrowser
from runner.core.metrics import FleetCollector, process_wide
from runner.core.queue import Lease, LeaseLost, Queue
from runner.core.runtime import build_worker
from runner.core.states import TaskStatus
from runner.core.system import System
from runner.core.tables import Task, WebhookAttempt, WebhookDelivery, utcnow
from runner.core.transitions import move
from runner.core.worker import Worker
from tests.support.ports import free_port

DATA = "member_id: 300059049\npatient: Jane Doe\nDOB: 1990-01-15\npayer: acme"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(text: str) -> Samples:
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, frozenset(s.labels.items()))] = s.value
    return found


def value(found: Samples, name: str, **labels: str) -> float:
    return found[(name, frozenset(labels.items()))]


def add_task(system: System, account_id: str, type_: str, status: str, *, attempts: int = 0) -> str:
    account = system.accounts.find(account_id)
    task = system.tasks.create(account, type=type_, data=DATA, actor="test")
    with session_scope(system.engine) as session:
        row = session.get(Task, task.id)
        assert row is not None
        row.status, row.attempts = status, attempts
        row.run_after = utcnow() - timedelta(minutes=5) if status == "pending" else None
        session.add(row)
    return task.id


def add_delivery(system: System, account_id: str, status: str, codes: list[int | None]) -> None:
    with session_scope(system.engine) as session:
        delivery = WebhookDelivery(account_id=account_id, event="task_finished", status=status)
        session.add(delivery)
        session.flush()
        for code in codes:
            session.add(WebhookAttempt(delivery_id=delivery.id, url="https://hooks.test/x", status_code=code))


@pytest.fixture
def account_id(system: System) -> str:
    return system.accounts.create("Clinic Metrics").account.id


def test_metrics_count_tasks_retries_and_webhooks(
    system: System, client: TestClient, account_id: str
) -> None:
    add_task(system, account_id, "check_eligibility", "pending")
    add_task(system, account_id, "check_eligibility", "pending", attempts=2)
    add_task(system, account_id, "check_eligibility", "completed", attempts=1)
    add_task(system, account_id, "submit_claim", "failed", attempts=3)
    add_delivery(system, account_id, "delivered", [500, None, 200])
    add_delivery(system, account_id, "failed", [410])

    response = client.get("/metrics")  # no API key: an operations endpoint
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    found = samples(response.text)

    assert value(found, "sopwright_database_up") == 1
    assert (
        value(found, "sopwright_tasks", status="pending", type="check_eligibility", lane="interactive") == 2
    )
    assert (
        value(found, "sopwright_tasks", status="completed", type="check_eligibility", lane="interactive") == 1
    )
    assert value(found, "sopwright_tasks", status="failed", type="submit_claim", lane="interactive") == 1
    assert value(found, "sopwright_tasks", status="running", type="submit_appeal", lane="interactive") == 0
    assert value(found, "sopwright_task_attempts_total", type="check_eligibility") == 3
    assert value(found, "sopwright_task_retries_total", type="check_eligibility") == 1
    assert value(found, "sopwright_task_retries_total", type="submit_claim") == 2
    assert value(found, "sopwright_task_retries_total", type="submit_appeal") == 0
    assert 290 < value(found, "sopwright_queue_oldest_due_seconds", lane="interactive") < 3600
    assert value(found, "sopwright_queue_oldest_due_seconds", lane="batch") == 0
    assert value(found, "sopwright_webhook_deliveries", status="delivered") == 1
    assert value(found, "sopwright_webhook_deliveries", status="failed") == 1
    assert value(found, "sopwright_webhook_deliveries", status="pending") == 0
    assert value(found, "sopwright_webhook_attempts_total") == 4
    assert value(found, "sopwright_webhook_attempt_failures_total") == 3
    # Counts only: no account names, no task data.
    assert "Clinic Metrics" not in response.text
    assert "Jane Doe" not in response.text
    assert account_id not in response.text


def test_empty_database_reports_zeros_and_the_probes_still_answer(client: TestClient) -> None:
    found = samples(client.get("/metrics").text)
    assert value(found, "sopwright_tasks", status="pending", type="submit_claim", lane="interactive") == 0
    assert value(found, "sopwright_queue_oldest_due_seconds", lane="interactive") == 0
    assert value(found, "sopwright_webhook_attempts_total") == 0
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]


def test_an_unreadable_database_says_so_instead_of_failing_the_scrape(tmp_path: Path) -> None:
    registry = CollectorRegistry()
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'missing' / 'x.db'}")
    registry.register(FleetCollector(engine))
    assert registry.get_sample_value("sopwright_database_up") == 0
    assert (
        registry.get_sample_value(
            "sopwright_tasks", {"status": "pending", "type": "submit_claim", "lane": "batch"}
        )
        is None
    )
    engine.dispose()


class ScriptedExecutor:
    """Ends each attempt the way the task's script says: complete it, lose the lease, or crash."""

    def __init__(self, system: System, queue: Queue, script: dict[str, str]) -> None:
        self._system, self._queue, self._script = system, queue, script
        self.registry = CollectorRegistry()
        self.in_flight_seen: list[float | None] = []
        self.contexts_seen: list[float | None] = []

    async def run(self, lease: Lease, task: Task, browser: Browser) -> bool:
        self.in_flight_seen.append(self.registry.get_sample_value("sopwright_worker_tasks_in_flight"))
        context = await browser.new_context(warm_key=None)
        self.contexts_seen.append(self.registry.get_sample_value("sopwright_browser_contexts_in_use"))
        await context.close()
        action = self._script[lease.task_id]
        if action == "lose":
            raise LeaseLost(lease.task_id)
        if action == "crash":
            raise RuntimeError("the browser would not open a context")
        if action == "defer":  # the portal login stayed busy
            later = utcnow() + timedelta(hours=1)
            await asyncio.to_thread(self._queue.release, lease, reason="busy", run_after=later, unused=True)
            return False
        await asyncio.to_thread(self._complete, lease)
        return True

    def crashed(self, lease: Lease, error: BaseException) -> None:
        self._queue.release(lease, reason="crashed", run_after=utcnow() + timedelta(hours=1))

    def _complete(self, lease: Lease) -> None:
        with session_scope(self._system.engine) as session:
            task = self._queue.hold(session, lease)
            move(session, task, TaskStatus.RUNNING, actor="test", action="start")
            move(session, task, TaskStatus.COMPLETED, actor="test", action="complete")


def run_in_thread(worker: Worker) -> None:
    """The worker's loop in a thread of its own (pytest-playwright may own the main thread's)."""
    errors: list[BaseException] = []

    def main() -> None:
        try:
            asyncio.run(worker.run(once=True))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=main, name="metrics-worker")
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive(), "the worker did not drain its queue within 60 s"
    if errors:
        raise errors[0]


def test_the_worker_observes_claim_latency_duration_and_in_flight(system: System, account_id: str) -> None:
    done = add_task(system, account_id, "check_eligibility", "pending")
    lost = add_task(system, account_id, "check_eligibility", "pending")
    crashed = add_task(system, account_id, "submit_claim", "pending")
    deferred = add_task(system, account_id, "submit_appeal", "pending")
    queue = Queue(system.engine, sops=system.sops, lease_seconds=30)
    script = {done: "finish", lost: "lose", crashed: "crash", deferred: "defer"}
    executor = ScriptedExecutor(system, queue, script)
    worker = Worker(queue, executor, FakeBrowser(), concurrency=1, grace_seconds=5)
    executor.registry.register(worker.metrics)

    run_in_thread(worker)

    r = executor.registry
    assert executor.in_flight_seen == [1.0, 1.0, 1.0, 1.0]
    assert r.get_sample_value("sopwright_worker_tasks_in_flight") == 0
    assert executor.contexts_seen == [1.0, 1.0, 1.0, 1.0]
    assert r.get_sample_value("sopwright_browser_contexts_in_use") == 0
    eligibility = {"type": "check_eligibility", "lane": "interactive"}
    # Each task had been due for five minutes when it was claimed.
    assert r.get_sample_value("sopwright_claim_latency_seconds_count", eligibility) == 2
    assert r.get_sample_value("sopwright_claim_latency_seconds_bucket", {**eligibility, "le": "120.0"}) == 0
    assert r.get_sample_value("sopwright_claim_latency_seconds_bucket", {**eligibility, "le": "600.0"}) == 2
    assert r.get_sample_value("sopwright_claim_latency_seconds_sum", eligibility) >= 2 * 300
    duration = "sopwright_task_attempt_duration_seconds_count"
    assert r.get_sample_value(duration, {**eligibility, "outcome": "finished"}) == 1
    assert r.get_sample_value(duration, {**eligibility, "outcome": "lost"}) == 1
    assert (
        r.get_sample_value(duration, {"type": "submit_claim", "lane": "interactive", "outcome": "crashed"})
        == 1
    )
    assert (
        r.get_sample_value(duration, {"type": "submit_claim", "lane": "interactive", "outcome": "finished"})
        is None
    )
    assert (
        r.get_sample_value(duration, {"type": "submit_appeal", "lane": "interactive", "outcome": "deferred"})
        == 1
    )


def test_the_in_process_worker_shows_on_the_api_endpoint(system: System, client: TestClient) -> None:
    worker = build_worker(system)  # not started: no browser
    with process_wide(worker.metrics):
        worker.metrics.in_flight.inc()
        found = samples(client.get("/metrics").text)
        assert value(found, "sopwright_worker_tasks_in_flight") == 1
        assert value(found, "sopwright_browser_contexts_in_use") == 0
        assert value(found, "sopwright_database_up") == 1
    assert "sopwright_worker_tasks_in_flight" not in client.get("/metrics").text


@pytest.fixture
def metered(system: System) -> System:
    """The wired core with `metrics_port` set (to a port free a moment ago)."""
    return dataclasses.replace(
        system, settings=system.settings.model_copy(update={"metrics_port": free_port()})
    )


def test_the_worker_command_serves_metrics_on_its_port(metered: System, account_id: str) -> None:
    add_task(metered, account_id, "submit_appeal", "waiting_for_input")
    worker = build_worker(metered)
    with metrics_server(metered, worker, "127.0.0.1"):
        response = httpx.get(f"http://127.0.0.1:{metered.settings.metrics_port}/metrics", timeout=10)
        found = samples(response.text)
        assert (
            value(
                found, "sopwright_tasks", status="waiting_for_input", type="submit_appeal", lane="interactive"
            )
            == 1
        )
        assert value(found, "sopwright_worker_tasks_in_flight") == 0
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{metered.settings.metrics_port}/metrics", timeout=2)


def test_a_busy_metrics_port_is_a_clear_error(metered: System, capsys: pytest.CaptureFixture[str]) -> None:
    port = metered.settings.metrics_port
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        with pytest.raises(typer.Exit), metrics_server(metered, build_worker(metered), "127.0.0.1"):
            pass
    assert f"Cannot serve metrics on 127.0.0.1:{port}" in capsys.readouterr().err.replace("\n", "")
