"""An attempt that crashes outside the SOP run is retried on the SOP's back-off and fails once the
SOP's attempts are spent, instead of cycling forever (no browser: the pool itself breaks)."""

from __future__ import annotations

import asyncio
import threading

from playwright.async_api import StorageState
from sqlmodel import select

from runner.core.db import session_scope
from runner.core.fake_browser import FakeBrowser, FakeContext
from runner.core.runtime import build_executor
from runner.core.system import System
from runner.core.tables import Task, TaskEvent, Trajectory
from runner.core.worker import Worker
from tests.support.task_fixtures import task_fixture


class BrokenBrowser(FakeBrowser):
    """A browser that starts but never gives a context (a bug, not an outage)."""

    async def new_context(
        self, *, storage_state: StorageState | None = None, warm_key: str | None = None
    ) -> FakeContext:
        raise RuntimeError("Target page, context or browser has been closed")


def run_worker(system: System) -> None:
    worker = Worker(system.queue, build_executor(system), BrokenBrowser(), concurrency=1, poll_interval=0.05)
    errors: list[BaseException] = []

    def main() -> None:
        try:
            asyncio.run(worker.run(once=True))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=main)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive() and not errors, errors


def reload(system: System, task_id: str) -> Task:
    with session_scope(system.engine, readonly=True) as session:
        task = session.get(Task, task_id)
        assert task is not None
        return task


def test_a_crashing_attempt_is_retried_then_failed(system: System) -> None:
    account = system.accounts.create("Clinic").account
    system.credentials.add(
        account.id,
        payer="acme",
        url="http://127.0.0.1:1/acme",
        username="biller",
        password="pw",
        totp_secret=None,
    )
    task = system.tasks.create(account, type="submit_claim", data=task_fixture("submit_claim"), actor="test")
    assert task.status == "pending", task.notes

    run_worker(system)
    first = reload(system, task.id)
    assert first.status == "pending" and first.attempts == 1 and first.run_after is not None
    assert first.notes is not None and first.notes.startswith("Attempt 1 of 3 did not finish (")
    assert "retrying in" in first.notes

    for _ in range(2):
        with session_scope(system.engine) as session:
            row = session.get(Task, task.id)
            assert row is not None
            row.run_after = None
            session.add(row)
        run_worker(system)
    failed = reload(system, task.id)
    assert failed.status == "failed" and failed.attempts == 3
    # The error is named, its text (which could hold PHI) is not repeated.
    assert failed.notes == "Gave up after 3 attempts: unexpected RuntimeError"
    with session_scope(system.engine, readonly=True) as session:
        kinds = [e.kind for e in session.exec(select(TaskEvent).where(TaskEvent.task_id == task.id))]
        trajectories = session.exec(select(Trajectory).where(Trajectory.task_id == task.id)).all()
    assert kinds.count("crash") == 3
    assert len(trajectories) == 3 and all(t.ended_at is not None for t in trajectories)
    assert trajectories[-1].outcome == "failed"
