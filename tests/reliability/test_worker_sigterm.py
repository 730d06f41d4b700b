"""Graceful SIGTERM: a `sopwright worker` stops claiming, lets running tasks finish for the grace
period, gives the rest back to the queue (pending, no lease) and exits 0; another worker then
finishes what was given back. A task that ends within the grace period is finished, not released.

The worker is a real subprocess (real Chromium) against the mock portal; the portal's latency
knob makes each page load slow, so the tasks are still on the portal when the signal arrives.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import col, select

from runner.core.db import session_scope
from runner.core.settings import Settings
from runner.core.system import System
from runner.core.tables import Account, Task, TaskEvent
from runner.core.tables.base import as_utc
from tests.support.portal_server import MockPortalAdmin, running_portal

ROOT = Path(__file__).resolve().parents[2]
DEADLINE_SECONDS = 90.0
EXIT_MARGIN_SECONDS = 20.0  # beyond the grace period: cancel, release, close the browser
ELIGIBILITY = (
    "member id: SYN100001\npatient: Ada Testmember\ndate of birth: 1980-04-12\n"
    "payer: Acme Health\nprovider npi: 2000000002\nservice type: 30\n"
)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'sopwright.db'}"


@pytest.fixture
def portal() -> Iterator[MockPortalAdmin]:
    with running_portal(admin=True) as url:
        admin = MockPortalAdmin(url)
        yield admin
        admin.close()


@pytest.fixture
def account(system: System, portal: MockPortalAdmin) -> Account:
    account = system.accounts.create("Graceful Clinic").account
    user = portal.user("acme")
    system.credentials.add(
        account.id,
        payer="acme",
        url=f"{portal.base_url}/acme",
        username=user["username"],
        password=user["password"],
        totp_secret=user["totp_secret"],
        max_sessions=4,
        rate_per_minute=600,
    )
    return account


def start_worker(
    settings: Settings, log: Path, *, grace: float, once: bool = False
) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPWRIGHT_")}
    env.update(
        SOPWRIGHT_DATA_DIR=str(settings.data_dir),
        SOPWRIGHT_DATABASE_URL=settings.resolved_database_url(),
        SOPWRIGHT_SECRET_KEY=str(settings.secret_key),
        SOPWRIGHT_ALLOW_HOSTS=settings.allow_hosts,
        SOPWRIGHT_GRACE_SECONDS=str(grace),
        SOPWRIGHT_WORKER_CONCURRENCY="2",
        SOPWRIGHT_TRACE="off",
        SOPWRIGHT_POLL_SCALE="0.01",
        PYTHONPATH=str(ROOT),
    )
    command = [sys.executable, "-m", "runner.cli.main", "worker", *(["--once"] if once else [])]
    with log.open("ab") as sink:
        return subprocess.Popen(command, env=env, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT)


def create(system: System, account: Account) -> str:
    return system.tasks.create(account, type="check_eligibility", data=ELIGIBILITY, actor="test").id


def tasks_by_id(system: System, ids: list[str]) -> dict[str, Task]:
    with session_scope(system.engine, readonly=True) as session:
        return {t.id: t for t in session.exec(select(Task).where(col(Task.id).in_(ids))).all()}


def wait_until_running(
    system: System, ids: list[str], count: int, worker: subprocess.Popen[bytes], log: Path
) -> None:
    """Until `count` of the tasks are on the portal (status running), against a deadline."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while sum(t.status == "running" for t in tasks_by_id(system, ids).values()) < count:
        if worker.poll() is not None:
            pytest.fail(f"The worker exited early:\n{log.read_text()}")
        if time.monotonic() > deadline:
            pytest.fail(f"{count} tasks were not running within {DEADLINE_SECONDS} s:\n{log.read_text()}")
        time.sleep(0.1)  # polling the store against a deadline


def terminate(worker: subprocess.Popen[bytes], grace: float, log: Path) -> float:
    """SIGTERM to the worker process alone (as an orchestrator does); seconds until it exited 0."""
    sent = time.monotonic()
    worker.send_signal(signal.SIGTERM)
    try:
        code = worker.wait(timeout=grace + EXIT_MARGIN_SECONDS)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
        pytest.fail(f"The worker did not exit within {grace} s + {EXIT_MARGIN_SECONDS} s:\n{log.read_text()}")
    assert code == 0, log.read_text()
    return time.monotonic() - sent


def events(system: System, task_id: str) -> list[str]:
    with session_scope(system.engine, readonly=True) as session:
        return list(
            session.exec(
                select(TaskEvent.kind).where(TaskEvent.task_id == task_id).order_by(col(TaskEvent.at))
            ).all()
        )


def test_sigterm_releases_what_cannot_finish_in_the_grace_period(
    system: System, settings: Settings, portal: MockPortalAdmin, account: Account, tmp_path: Path
) -> None:
    portal.set_knobs(latency_ms=2500)  # every page takes 2.5 s: a check is far longer than the grace
    ids = [create(system, account) for _ in range(3)]
    log = tmp_path / "worker.log"
    grace = 2.0
    worker = start_worker(settings, log, grace=grace)
    try:
        wait_until_running(system, ids, 2, worker, log)
        terminate(worker, grace, log)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()

    after = tasks_by_id(system, ids)
    held = [t for t in after.values() if t.attempts > 0]
    assert len(held) == 2, [(t.status, t.attempts) for t in after.values()]  # it stopped claiming
    for task in after.values():
        assert task.status in {"pending", "completed", "completed_with_issues", "failed"}, task.status
        assert task.lease_owner is None and task.lease_expires_at is None
    released = [t for t in held if t.status == "pending"]
    assert released, "nothing was released: the tasks were too quick for this test"
    for task in released:
        assert events(system, task.id)[-1] == "release"
    assert "2 claimed" in log.read_text() and f"{len(released)} released" in log.read_text()

    # A second worker, on a fast portal, finishes everything that was given back.
    portal.set_knobs(latency_ms=0)
    second = start_worker(settings, log, grace=grace, once=True)
    try:
        assert second.wait(timeout=DEADLINE_SECONDS) == 0, log.read_text()
    finally:
        if second.poll() is None:
            second.kill()
            second.wait()
    done = tasks_by_id(system, ids)
    assert {t.status for t in done.values()} == {"completed"}, [(t.status, t.notes) for t in done.values()]
    assert len(portal.submissions(payer="acme", kind="eligibility")) == 3


def test_a_task_that_ends_within_the_grace_period_is_finished_not_released(
    system: System, settings: Settings, portal: MockPortalAdmin, account: Account, tmp_path: Path
) -> None:
    portal.set_knobs(latency_ms=400)
    task_id = create(system, account)
    log = tmp_path / "worker.log"
    grace = 30.0
    worker = start_worker(settings, log, grace=grace)
    try:
        wait_until_running(system, [task_id], 1, worker, log)
        signalled_at = datetime.now(UTC)
        terminate(worker, grace, log)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    task = tasks_by_id(system, [task_id])[task_id]
    assert task.status == "completed", (task.status, task.notes)
    assert task.attempts == 1 and task.lease_owner is None
    assert task.completed_at is not None and as_utc(task.completed_at) > signalled_at  # finished in the grace
    assert "release" not in events(system, task_id)
    assert "1 finished, 0 released" in log.read_text()
