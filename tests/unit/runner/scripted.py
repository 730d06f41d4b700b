"""A worker on a scripted portal (handlers.fake) and a fake browser (runner.core.fake_browser):
the worker's rules in the unit tier, on SQLite and PostgreSQL, without Chromium."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlmodel import col, select

from handlers.fake import FakePortal
from runner.core.db import session_scope
from runner.core.fake_browser import FakeBrowser
from runner.core.runtime import build_executor
from runner.core.system import System
from runner.core.tables import Account, Task, TaskEvent, TrajectoryStep, utcnow
from runner.core.worker import Worker
from tests.support.task_fixtures import task_fixture
from tests.support.threaded import run_async

CLAIM_STEPS = ["login", "open_claim_form", "fill_claim", "submit_claim", "capture_claim_number"]
PASSWORD = "Canary-Pass-4417!"


def account_with_login(system: System, payer: str = "fake", *, name: str = "Clinic") -> Account:
    account = system.accounts.create(name).account
    system.credentials.add(
        account.id,
        payer=payer,
        url="http://portal.invalid/fake",
        username="biller",
        password=PASSWORD,
        totp_secret=None,
    )
    return account


def claim_data(*, charges: Sequence[str] = ()) -> str:
    data = task_fixture("submit_claim").replace("payer: Acme Health", "payer: fake")
    if charges:
        kept = [line for line in data.splitlines() if not line.lower().startswith(("service line", "total"))]
        lines = [f"service line: cpt=99215, units=1, charge={c}, pointers=A" for c in charges]
        data = "\n".join(kept + lines) + "\n"
    return data


def claim(system: System, account: Account, *, charges: Sequence[str] = ()) -> Task:
    task = system.tasks.create(account, type="submit_claim", data=claim_data(charges=charges), actor="test")
    assert task.status == "pending", task.notes
    return task


def run_worker(
    system: System,
    portal: FakePortal,
    *,
    browser: FakeBrowser | None = None,
    steps: Sequence[str] = CLAIM_STEPS,
    concurrency: int = 2,
) -> FakeBrowser:
    """One worker pass (`--once`) over what is due; returns its browser."""
    browser = browser if browser is not None else FakeBrowser()
    executor = build_executor(system, portals={portal.key: portal.handler(steps)})
    worker = Worker(system.queue, executor, browser, concurrency=concurrency, poll_interval=0.05)
    run_async(lambda: worker.run(once=True))
    return browser


def reload(system: System, task_id: str) -> Task:
    with session_scope(system.engine, readonly=True) as session:
        task = session.get(Task, task_id)
        assert task is not None
        return task


def make_due(system: System, task_id: str) -> None:
    with session_scope(system.engine) as session:
        task = session.get(Task, task_id)
        assert task is not None
        task.run_after = None
        session.add(task)


def mark_submitted(system: System, task_id: str, *, ago: timedelta = timedelta(0)) -> None:
    """As if an earlier attempt died after the irreversible click (`ago` before now)."""
    with session_scope(system.engine) as session:
        row = session.get(Task, task_id)
        assert row is not None
        row.submit_attempted_at = utcnow() - ago
        session.add(row)


def steps_of(system: System, trajectory_id: str | None) -> list[TrajectoryStep]:
    with session_scope(system.engine, readonly=True) as session:
        statement = select(TrajectoryStep).where(TrajectoryStep.trajectory_id == trajectory_id)
        return list(session.exec(statement.order_by(col(TrajectoryStep.position))).all())


def moves(system: System, task_id: str) -> list[tuple[str | None, str | None, str]]:
    """The task's status changes, oldest first: (from, to, action)."""
    with session_scope(system.engine, readonly=True) as session:
        statement = select(TaskEvent).where(
            TaskEvent.task_id == task_id, col(TaskEvent.to_status).is_not(None)
        )
        events = session.exec(statement.order_by(col(TaskEvent.at), col(TaskEvent.id))).all()
        return [(e.from_status, e.to_status, e.kind) for e in events]
