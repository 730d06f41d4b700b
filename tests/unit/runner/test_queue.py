"""Leases: claims, fencing tokens, heartbeats and the reaper, on both backends (no browser)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from runner.core.db import session_scope
from runner.core.queue import LeaseLost, Queue
from runner.core.system import System
from runner.core.tables import Task

CLAIM = "member_id: 300059049\npatient: Jane Doe\nDOB: 1990-01-15\npayer: acme"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def pending_task(system: System, account_id: str | None = None) -> str:
    account = system.accounts.find(account_id) if account_id else system.accounts.create("Clinic").account
    task = system.tasks.create(account, type="check_eligibility", data=CLAIM, actor="test")
    with session_scope(system.engine) as session:
        row = session.get(Task, task.id)
        assert row is not None
        row.status, row.run_after = "pending", None  # the data may lack fields; the queue does not care
        session.add(row)
    return task.id


def status_of(system: System, task_id: str) -> Task:
    with session_scope(system.engine, readonly=True) as session:
        row = session.get(Task, task_id)
        assert row is not None
        return row


def test_claim_leases_and_fences(system: System) -> None:
    clock = Clock()
    queue = Queue(system.engine, sops=system.sops, lease_seconds=30, clock=clock)
    task_id = pending_task(system)
    [(lease, task)] = queue.claim("w1", 5)
    assert task.status == "dispatching" and lease.token == 1
    assert queue.claim("w2", 5) == []
    queue.heartbeat(lease)
    clock.now += timedelta(seconds=31)
    assert queue.reap() == 1
    row = status_of(system, task_id)
    assert row.status == "pending" and row.lease_owner is None
    with pytest.raises(LeaseLost):
        queue.heartbeat(lease)
    assert queue.release(lease, reason="x") is False
    [(second, _)] = queue.claim("w2", 5)
    assert second.token == 2
    assert status_of(system, task_id).attempts == 2


def test_a_heartbeating_task_is_never_reaped(system: System) -> None:
    clock = Clock()
    queue = Queue(system.engine, sops=system.sops, lease_seconds=30, clock=clock)
    pending_task(system)
    [(lease, _)] = queue.claim("w1", 1)
    for _ in range(10):  # a step that takes five minutes, heartbeating every 30 s
        clock.now += timedelta(seconds=29)
        queue.heartbeat(lease)
        assert queue.reap() == 0


def test_not_due_tasks_wait(system: System) -> None:
    clock = Clock()
    queue = Queue(system.engine, sops=system.sops, clock=clock)
    task_id = pending_task(system)
    with session_scope(system.engine) as session:
        row = session.get(Task, task_id)
        assert row is not None
        row.run_after = clock.now + timedelta(minutes=5)
        session.add(row)
    assert queue.claim("w", 1) == []
    assert queue.next_due_in() == pytest.approx(300)
    clock.now += timedelta(minutes=5)
    assert len(queue.claim("w", 1)) == 1
    assert queue.next_due_in() is None


def test_concurrent_claims_never_share_a_task(system: System) -> None:
    account_id = system.accounts.create("Clinic").account.id
    ids = {pending_task(system, account_id) for _ in range(20)}
    queue = Queue(system.engine, sops=system.sops)

    def claim(worker: int) -> list[str]:
        got: list[str] = []
        for _ in range(10):
            got += [lease.task_id for lease, _ in queue.claim(f"w{worker}", 2)]
        return got

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(claim, range(4)))
    claimed = [task_id for result in results for task_id in result]
    assert sorted(claimed) == sorted(ids)
