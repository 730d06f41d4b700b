"""Per-login session and rate limits kept in the database, on both backends (no browser)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlmodel import select

from runner.core.db import session_scope
from runner.core.limits import Busy, Hold, LoginLimits
from runner.core.queue import Lease, LeaseLost, Queue
from runner.core.system import System
from runner.core.tables import PortalSession, TaskEvent
from tests.unit.runner.test_queue import Clock, pending_task, status_of


def login(system: System, *, max_sessions: int = 2, rate_per_minute: int = 30) -> tuple[str, str]:
    account = system.accounts.create("Clinic").account
    credential = system.credentials.add(
        account.id,
        payer="acme",
        url="http://127.0.0.1:1/acme",
        username="clinic-user",
        password="not-a-real-password",
        totp_secret=None,
        max_sessions=max_sessions,
        rate_per_minute=rate_per_minute,
    )
    return account.id, credential.id


def claimed(system: System, queue: Queue, account_id: str, count: int) -> list[Lease]:
    for _ in range(count):
        pending_task(system, account_id)
    leases = [lease for lease, _task in queue.claim("w1", count)]
    assert len(leases) == count
    return leases


def test_at_most_max_sessions_holds_at_once(system: System) -> None:
    clock = Clock()
    queue = Queue(system.engine, sops=system.sops, lease_seconds=30, clock=clock)
    limits = LoginLimits(system.engine, queue, clock=clock)
    account_id, credential_id = login(system, max_sessions=2)
    first, second, third = claimed(system, queue, account_id, 3)

    held = [limits.acquire(credential_id, first), limits.acquire(credential_id, second)]
    assert all(isinstance(h, Hold) for h in held)
    busy = limits.acquire(credential_id, third)
    assert isinstance(busy, Busy) and "all 2 sessions" in busy.reason
    assert limits.in_use(credential_id) == 2

    assert isinstance(held[0], Hold)
    limits.release(held[0])
    assert isinstance(limits.acquire(credential_id, third), Hold)


def test_each_live_hold_has_a_session_slot_of_its_own(system: System) -> None:
    """Two attempts at once never share a portal session: a hold takes the lowest slot no live
    hold has, a released or dead hold's slot is taken again."""
    clock = Clock()
    queue = Queue(system.engine, sops=system.sops, lease_seconds=30, clock=clock)
    limits = LoginLimits(system.engine, queue, clock=clock)
    account_id, credential_id = login(system, max_sessions=3)
    first, second, third, fourth = claimed(system, queue, account_id, 4)

    holds = [limits.acquire(credential_id, lease) for lease in (first, second, third)]
    assert [h.slot for h in holds if isinstance(h, Hold)] == [0, 1, 2]
    assert isinstance(holds[1], Hold)
    limits.release(holds[1])
    again = limits.acquire(credential_id, fourth)
    assert isinstance(again, Hold) and again.slot == 1

    # The first attempt's worker dies: its lease runs out, and its slot (the stored session's) frees.
    clock.now += timedelta(seconds=25)
    for lease in (third, fourth):
        queue.heartbeat(lease)
    clock.now += timedelta(seconds=10)
    fifth = claimed(system, queue, account_id, 1)[0]
    taken = limits.acquire(credential_id, fifth)
    assert isinstance(taken, Hold) and taken.slot == 0
    with session_scope(system.engine, readonly=True) as session:
        slots = {row.id: row.slot for row in session.exec(select(PortalSession))}
    assert slots[taken.id] == 0 and slots[again.id] == 1


def test_a_dead_workers_hold_ends_with_its_lease(system: System) -> None:
    clock = Clock()
    queue = Queue(system.engine, sops=system.sops, lease_seconds=30, clock=clock)
    limits = LoginLimits(system.engine, queue, clock=clock)
    account_id, credential_id = login(system, max_sessions=1)
    dead, waiting = claimed(system, queue, account_id, 2)
    assert isinstance(limits.acquire(credential_id, dead), Hold)  # its worker is then SIGKILLed

    queue.heartbeat(waiting)
    assert isinstance(limits.acquire(credential_id, waiting), Busy)
    clock.now += timedelta(seconds=25)
    queue.heartbeat(waiting)  # the waiting task's worker is alive; the dead one's lease runs out
    clock.now += timedelta(seconds=10)
    assert limits.in_use(credential_id) == 0
    assert isinstance(limits.acquire(credential_id, waiting), Hold)


def test_a_hold_ends_when_its_task_is_claimed_again(system: System) -> None:
    clock = Clock()
    queue = Queue(system.engine, sops=system.sops, lease_seconds=30, clock=clock)
    limits = LoginLimits(system.engine, queue, clock=clock)
    account_id, credential_id = login(system, max_sessions=1)
    [lease] = claimed(system, queue, account_id, 1)
    assert isinstance(limits.acquire(credential_id, lease), Hold)
    clock.now += timedelta(seconds=31)
    assert queue.reap() == 1
    [(again, _)] = queue.claim("w2", 1)  # a new token: the old hold no longer counts
    assert isinstance(limits.acquire(credential_id, again), Hold)
    with pytest.raises(LeaseLost):
        limits.acquire(credential_id, lease)  # and the old lease can take nothing


def test_rate_per_minute_counts_starts_in_the_last_minute(system: System) -> None:
    clock = Clock()
    queue = Queue(system.engine, sops=system.sops, lease_seconds=30, clock=clock)
    limits = LoginLimits(system.engine, queue, clock=clock)
    account_id, credential_id = login(system, max_sessions=10, rate_per_minute=3)
    leases = claimed(system, queue, account_id, 4)
    for step, lease in enumerate(leases[:3]):  # starts at 0 s, 10 s and 20 s
        clock.now += timedelta(seconds=10 if step else 0)
        hold = limits.acquire(credential_id, lease)
        assert isinstance(hold, Hold)
        limits.release(hold)  # ended at once: still counts toward the rate
    busy = limits.acquire(credential_id, leases[3])
    assert isinstance(busy, Busy) and "3 sessions in the last minute" in busy.reason
    assert busy.retry_in == pytest.approx(40.0)  # the first start leaves the window 60 s after it

    clock.now += timedelta(seconds=40)
    for lease in leases[3:]:
        queue.heartbeat(lease)
    assert isinstance(limits.acquire(credential_id, leases[3]), Hold)
    clock.now += timedelta(seconds=61)
    for lease in leases[3:]:
        queue.heartbeat(lease)
    assert isinstance(limits.acquire(credential_id, leases[3]), Hold)
    with session_scope(system.engine, readonly=True) as session:
        # Ended holds that left the window are swept; the live one and the new one stay.
        assert len(session.exec(select(PortalSession)).all()) == 2


def test_racing_workers_never_take_more_than_the_limit(system: System) -> None:
    queue = Queue(system.engine, sops=system.sops, lease_seconds=30)
    limits = LoginLimits(system.engine, queue)
    account_id, credential_id = login(system, max_sessions=2)
    leases = claimed(system, queue, account_id, 8)
    start = threading.Barrier(len(leases))
    results: list[Hold | Busy] = []

    def race(lease: Lease) -> None:
        start.wait(timeout=10)
        results.append(limits.acquire(credential_id, lease))

    threads = [threading.Thread(target=race, args=(lease,)) for lease in leases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == len(leases)
    assert sum(isinstance(r, Hold) for r in results) == 2
    assert limits.in_use(credential_id) == 2


def test_a_deferred_claim_does_not_count_as_an_attempt(system: System) -> None:
    queue = Queue(system.engine, sops=system.sops, lease_seconds=30)
    task_id = pending_task(system)
    [(lease, _)] = queue.claim("w1", 1)
    assert status_of(system, task_id).attempts == 1
    assert queue.release(lease, reason="Waiting for the portal login.", unused=True)
    row = status_of(system, task_id)
    assert row.status == "pending" and row.attempts == 0
    with session_scope(system.engine, readonly=True) as session:
        events = session.exec(select(TaskEvent).where(TaskEvent.task_id == task_id)).all()
    assert [e.kind for e in events][-1] == "defer"
