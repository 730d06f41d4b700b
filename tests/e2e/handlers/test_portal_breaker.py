"""A portal down for longer than the tasks' retry budget (the mock's maintenance knob) holds its
queue instead of failing it: 20 queued eligibility checks spend no attempt while it lasts and all
complete once it ends. Real Chromium, the real handlers, on SQLite and PostgreSQL.

The runner's clock is a test clock moved past each probe time (no real back-off waits); the mock
portal's own clock is untouched. The breaker's rules themselves are in tests/unit/runner/test_breaker.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from handlers.portals import portal_handlers
from runner.core import db
from runner.core.breaker import BreakerRules, PortalState, portal_key
from runner.core.db import session_scope
from runner.core.execution import ExecutionSettings, Executor
from runner.core.portal_health import PortalHealthBook
from runner.core.queue import Queue
from runner.core.tables import PortalHealth, Task, metadata, utcnow
from runner.core.tables.base import as_utc
from runner.core.tracing import TraceMode
from runner.core.worker import Worker
from sops.types import TaskType
from tests.e2e.handlers import task_data
from tests.e2e.handlers.conftest import POLL_SCALE, Clinic

pytestmark = pytest.mark.e2e

TASKS = 20
RULES = BreakerRules(threshold=3, backoff_seconds=60, max_backoff_seconds=600, alert_after_seconds=3600)
FAILED_PROBES = 4  # more probes than the SOP's 3 attempts, over more time than its back-offs add up to


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'sopwright.db'}"
        return
    url: str = request.getfixturevalue("postgres_url")
    yield url
    engine = db.create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in reversed(metadata.sorted_tables))
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    engine.dispose()


class ShiftedClock:
    """Real time plus an offset the test moves forward."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return utcnow() + self.offset


class Runner:
    """Worker passes (drain what is due, then stop) with every runner part on the test clock."""

    def __init__(self, clinic: Clinic) -> None:
        system = clinic.system
        self.clinic = clinic
        self.clock = ShiftedClock()
        self.queue = Queue(system.engine, sops=system.sops, lease_seconds=60, clock=self.clock)
        self.health = PortalHealthBook(system.engine, RULES, clock=self.clock)
        self.executor = Executor(
            system.engine,
            self.queue,
            sops=system.sops,
            credentials=system.credentials,
            files=system.files,
            artifacts=system.artifacts,
            portals=portal_handlers(),
            settings=ExecutionSettings(trace=TraceMode.OFF, poll_scale=POLL_SCALE),
            clock=self.clock,
            health=self.health,
        )

    def run(self) -> None:
        worker = Worker(self.queue, self.executor, self.clinic.browser, concurrency=4, poll_interval=0.05)
        self.clinic.loop.run(worker.run(once=True))

    def tasks(self) -> list[Task]:
        with session_scope(self.clinic.system.engine, readonly=True) as session:
            return list(session.exec(select(Task).order_by(col(Task.task_number))).all())

    def portal(self, key: str) -> PortalHealth:
        with session_scope(self.clinic.system.engine, readonly=True) as session:
            row = session.get(PortalHealth, key)
            assert row is not None
            return row

    def to_next_probe(self, key: str) -> None:
        due = as_utc(self.portal(key).next_probe_at)
        assert due is not None
        self.clock.offset += max(timedelta(), due - self.clock()) + timedelta(seconds=1)


def test_a_maintenance_window_holds_the_queue_and_spends_no_attempt(clinic: Clinic) -> None:
    login = clinic.add_login("acme")
    key = portal_key(login.url)
    runner = Runner(clinic)
    for _ in range(TASKS):
        clinic.create("check_eligibility", task_data.eligibility("acme"))
    clinic.portal.set_knobs(maintenance=True)

    runner.run()  # three tasks meet the maintenance page, the breaker trips, everything waits
    portal = runner.portal(key)
    assert portal.state == PortalState.DOWN
    started = as_utc(portal.down_since)
    for task in runner.tasks():
        assert task.status == "pending" and task.attempts == 0, (task.task_number, task.notes)
        assert task.held_for_portal == key and "without spending an attempt" in (task.notes or "")

    for failed in range(1, FAILED_PROBES + 1):  # the window goes on: each probe finds it down
        runner.to_next_probe(key)
        runner.run()
        portal = runner.portal(key)
        assert portal.state == PortalState.DOWN and portal.probe_failures == failed
        assert all(t.status == "pending" and t.attempts == 0 for t in runner.tasks())
    assert started is not None
    lasted = runner.clock() - started
    sop = clinic.system.sops.resolve(clinic.account.id, TaskType.CHECK_ELIGIBILITY).sop
    budget = sum(
        sop.retry.backoff_seconds * sop.retry.backoff_multiplier**n for n in range(sop.retry.max_attempts)
    )
    assert lasted.total_seconds() > budget and sop.retry.max_attempts < FAILED_PROBES

    clinic.portal.set_knobs(maintenance=False)
    runner.to_next_probe(key)
    runner.run()  # the probe gets through, every held task is due at once, the queue drains
    assert runner.portal(key).state == PortalState.UP
    done = runner.tasks()
    assert [t.status for t in done] == ["completed"] * TASKS, [t.notes for t in done]
    assert [t.attempts for t in done] == [1] * TASKS
    assert len(clinic.portal.submissions(payer="acme", kind="eligibility")) == TASKS
