"""Priority lanes: due interactive tasks are claimed first, and a portal login keeps one session
for interactive work; on SQLite and PostgreSQL (no browser)."""

from __future__ import annotations

import itertools
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import col, select

from runner.core.batchfile import read_csv
from runner.core.db import session_scope
from runner.core.limits import Busy, Hold, LoginLimits
from runner.core.queue import Lease, Queue
from runner.core.system import System
from runner.core.tables import Task, utcnow
from runner.core.tables.base import as_utc
from tests.unit.runner.callers import Caller
from tests.unit.runner.test_limits import login
from tests.unit.runner.test_queue import Clock, pending_task

ELIGIBILITY = "member_id: 300059049\npatient: Jane Doe\nDOB: 1990-01-15\npayer: acme"


def lane_task(system: System, account_id: str, priority: str, *, due_minutes_ago: float) -> str:
    task_id = pending_task(system, account_id)
    with session_scope(system.engine) as session:
        row = session.get(Task, task_id)
        assert row is not None
        row.priority = priority
        row.run_after = Clock().now - timedelta(minutes=due_minutes_ago)
        session.add(row)
    return task_id


def test_a_due_interactive_task_is_claimed_before_every_due_batch_task(system: System) -> None:
    clock = Clock()
    queue = Queue(system.engine, sops=system.sops, clock=clock)
    account_id = system.accounts.create("Clinic").account.id
    batch = [lane_task(system, account_id, "batch", due_minutes_ago=60 - i) for i in range(50)]
    urgent = lane_task(system, account_id, "interactive", due_minutes_ago=0)
    later = lane_task(system, account_id, "interactive", due_minutes_ago=-5)  # not due yet

    [(first, _)] = queue.claim("w1", 1)
    assert first.task_id == urgent
    claimed = [lease.task_id for lease, _ in queue.claim("w1", 10)]
    assert claimed == batch[:10]  # then the batch, oldest due first
    assert later not in claimed


def claimed_lane(system: System, queue: Queue, account_id: str, priority: str, count: int) -> list[Lease]:
    ids = [lane_task(system, account_id, priority, due_minutes_ago=1) for _ in range(count)]
    leases = [lease for lease, _ in queue.claim("w1", 100) if lease.task_id in ids]
    assert len(leases) == count
    return leases


def test_batch_tasks_leave_one_session_of_a_login_to_interactive_work(system: System) -> None:
    clock = Clock()
    queue = Queue(system.engine, sops=system.sops, lease_seconds=30, clock=clock)
    limits = LoginLimits(system.engine, queue, clock=clock)
    account_id, credential_id = login(system, max_sessions=3, rate_per_minute=1000)
    batch = claimed_lane(system, queue, account_id, "batch", 3)
    assert all(isinstance(limits.acquire(credential_id, lease), Hold) for lease in batch[:2])
    refused = limits.acquire(credential_id, batch[2])
    assert isinstance(refused, Busy) and "kept for interactive work" in refused.reason

    [urgent, second] = claimed_lane(system, queue, account_id, "interactive", 2)
    assert isinstance(limits.acquire(credential_id, urgent), Hold)
    assert isinstance(limits.acquire(credential_id, second), Busy)  # all three in use
    assert limits.in_use(credential_id) == 3


def test_interactive_tasks_may_use_every_session_and_a_single_session_login_serves_batches(
    system: System,
) -> None:
    clock = Clock()
    queue = Queue(system.engine, sops=system.sops, lease_seconds=30, clock=clock)
    limits = LoginLimits(system.engine, queue, clock=clock)
    account_id, credential_id = login(system, max_sessions=2, rate_per_minute=1000)
    urgent = claimed_lane(system, queue, account_id, "interactive", 2)
    held = [limits.acquire(credential_id, lease) for lease in urgent]
    assert all(isinstance(h, Hold) for h in held)

    solo = system.credentials.add(
        account_id,
        payer="globex",
        url="http://127.0.0.1:1/globex",
        username="solo-user",
        password="not-a-real-password",
        totp_secret=None,
        max_sessions=1,
        rate_per_minute=1000,
    )
    [batch] = claimed_lane(system, queue, account_id, "batch", 1)
    assert isinstance(limits.acquire(solo.id, batch), Hold)  # nothing to keep back from one session


def test_post_tasks_takes_a_priority_and_defaults_to_interactive(api: TestClient, caller: Caller) -> None:
    plain = api.post(
        "/tasks", json={"type": "check_eligibility", "data": ELIGIBILITY}, headers=caller.headers
    )
    assert plain.status_code == 200 and plain.json()["priority"] == "interactive"
    assert plain.json()["batch_id"] is None
    batch = api.post(
        "/tasks",
        json={"type": "check_eligibility", "data": ELIGIBILITY, "priority": "batch"},
        headers=caller.headers,
    )
    assert batch.status_code == 200 and batch.json()["priority"] == "batch"
    form = api.post(
        "/tasks",
        files={"type": (None, "check_eligibility"), "data": (None, ELIGIBILITY), "priority": (None, "batch")},
        headers=caller.headers,
    )
    assert form.status_code == 200 and form.json()["priority"] == "batch"
    wrong = api.post(
        "/tasks", json={"type": "check_eligibility", "priority": "urgent"}, headers=caller.headers
    )
    assert wrong.status_code == 422
    assert "Unknown priority 'urgent'" in wrong.json()["error"]["message"]


def fifty_row_batch(system: System, account_id: str) -> int:
    rows = "\r\n".join(
        ["member_id,patient,DOB,payer"]
        + [f"3000{i:05d},Pat Alder,1980-02-{1 + i % 28:02d},acme" for i in range(50)]
    )
    account = system.accounts.find(account_id)
    batch = system.batches.create(
        account,
        read_csv(rows.encode(), max_rows=100),
        type="check_eligibility",
        priority=None,
        source="fifty.csv",
        request_hash="fifty",
        actor="test",
    )
    assert batch.id is not None and batch.created == 50
    return batch.id


def test_a_fifty_row_batch_yields_to_an_interactive_task_and_to_its_session_reserve(system: System) -> None:
    clock = Clock()
    account_id, credential_id = login(system, max_sessions=3, rate_per_minute=1000)
    fifty_row_batch(system, account_id)
    account = system.accounts.find(account_id)
    clock.now = utcnow() + timedelta(minutes=5)  # every batch task is due (spread at 900 a minute)
    queue = Queue(system.engine, sops=system.sops, lease_seconds=30, clock=clock)
    limits = LoginLimits(system.engine, queue, clock=clock)

    first = [lease for lease, task in queue.claim("w1", 4)]
    holds = [limits.acquire(credential_id, lease) for lease in first]
    assert [isinstance(h, Hold) for h in holds] == [True, True, False, False]  # 2 of 3 sessions
    for lease in first[2:]:
        queue.release(lease, reason="login busy", unused=True)

    urgent = system.tasks.create(account, type="check_eligibility", data=ELIGIBILITY, actor="front-desk")
    [(lease, task)] = queue.claim("w2", 1)
    assert task.id == urgent.id and task.priority == "interactive"  # before 48 due batch tasks
    assert isinstance(limits.acquire(credential_id, lease), Hold)  # the session kept for it


def test_a_batch_is_spread_by_its_logins_rate_after_what_is_queued(system: System) -> None:
    account_id, _ = login(system, max_sessions=2, rate_per_minute=30)  # batch tasks: 27 a minute
    first, second = fifty_row_batch(system, account_id), fifty_row_batch(system, account_id)
    with session_scope(system.engine, readonly=True) as session:
        due = [
            as_utc(t.run_after)
            for t in session.exec(
                select(Task).where(col(Task.batch_id).in_([first, second])).order_by(col(Task.task_number))
            )
        ]
    gaps = {round((b - a).total_seconds(), 3) for a, b in itertools.pairwise(due) if a and b}
    assert gaps == {round(60 / 27, 3)}  # evenly spaced, the second batch after the first
    assert len(due) == 100
