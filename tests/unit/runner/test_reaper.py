"""The reaper counts the attempt of a worker that died: a task that kills its worker every time
(the probe's poison task) fails after the SOP's attempts with its webhook, instead of cycling
past them forever; a task past the submit is reconciled, or failed saying it may have been
submitted (issue 15, item 2). Both backends, no browser."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from runner.core.db import session_scope
from runner.core.queue import Lease
from runner.core.states import TaskStatus
from runner.core.system import System
from runner.core.tables import Task, TaskEvent, Trajectory, WebhookDelivery, utcnow
from runner.core.transitions import move
from sops.jsonlimits import TOO_DEEP
from tests.support.poison import poison_row


def start(system: System, lease: Lease, *, submitted: bool = False) -> str:
    """What a worker does when an attempt starts (and, optionally, at the submit mark)."""
    with session_scope(system.engine) as session:
        task = system.queue.hold(session, lease)
        trajectory = Trajectory(
            task_id=task.id, account_id=task.account_id, attempt=task.attempts, worker="w"
        )
        session.add(trajectory)
        task.trajectory_id = trajectory.id
        if submitted:
            task.submit_attempted_at = utcnow()
        move(session, task, TaskStatus.RUNNING, actor="worker:w", action="start")
        return trajectory.id


def die(system: System, task_id: str) -> None:
    """The worker is gone: its lease runs out without a heartbeat."""
    with session_scope(system.engine) as session:
        task = session.get(Task, task_id)
        assert task is not None
        task.lease_expires_at = utcnow() - timedelta(seconds=1)
        session.add(task)


def reload(system: System, task_id: str) -> Task:
    with session_scope(system.engine, readonly=True) as session:
        task = session.get(Task, task_id)
        assert task is not None
        return task


def deliveries(system: System, task_id: str) -> list[WebhookDelivery]:
    with session_scope(system.engine, readonly=True) as session:
        return list(session.exec(select(WebhookDelivery).where(WebhookDelivery.task_id == task_id)).all())


def test_a_task_that_kills_its_worker_fails_after_its_attempts(system: System) -> None:
    account = system.accounts.create("Clinic").account
    task = poison_row(system, account, status="pending")
    trajectories = []
    for attempt in (1, 2, 3):
        [(lease, _)] = system.queue.claim("w", 5)
        trajectories.append(start(system, lease))
        die(system, task.id)
        assert system.queue.reap() == 1
        row = reload(system, task.id)
        assert row.attempts == attempt and row.lease_owner is None
        if attempt < 3:
            assert row.status == "pending", row.notes
            assert row.notes == (
                f"Attempt {attempt} of 3 did not finish (the worker running it stopped before finishing); "
                "retrying now."
            )
            assert deliveries(system, task.id) == []
    assert row.status == "failed" and row.failed_at is not None
    assert row.notes == "Gave up after 3 attempts: the worker running it stopped before finishing"
    assert row.result is not None
    assert row.result["failure_reason"] == "the worker running it stopped before finishing"
    assert system.queue.claim("w", 5) == []  # final: never claimed again, attempts stay 3 of 3
    assert system.queue.reap() == 0
    [delivery] = deliveries(system, task.id)  # the webhook row, written by the transition writer
    assert delivery.event == "task_finished" and delivery.payload["data"]["status"] == "failed"
    assert TOO_DEEP in str(delivery.payload["data"]["fields"])  # the poison row renders, cut
    with session_scope(system.engine, readonly=True) as session:
        ended = session.exec(select(Trajectory).where(col(Trajectory.id).in_(trajectories))).all()
        kinds = [e.kind for e in session.exec(select(TaskEvent).where(TaskEvent.task_id == task.id))]
    assert len(ended) == 3 and all(t.ended_at is not None for t in ended)
    assert kinds.count("reap") == 3


def test_a_task_past_the_submit_is_reconciled_then_failed_saying_it_may_have_been_submitted(
    system: System,
) -> None:
    account = system.accounts.create("Clinic").account
    task = system.tasks.create(account, type="check_eligibility", data="member: 1", actor="test")
    with session_scope(system.engine) as session:
        row = session.get(Task, task.id)
        assert row is not None
        row.status, row.run_after = "pending", None
        session.add(row)
    for attempt in (1, 2, 3):
        [(lease, _)] = system.queue.claim("w", 5)
        start(system, lease, submitted=attempt == 1)
        die(system, task.id)
        assert system.queue.reap() == 1
        row = reload(system, task.id)
        assert row.submit_attempted_at is not None  # kept: the next attempt reconciles first
        if attempt < 3:
            assert row.status == "pending"
            assert row.notes is not None and "the next attempt first looks for it on the portal" in row.notes
    assert row.status == "failed"
    assert row.notes is not None and row.notes.startswith("Gave up after 3 attempts")
    assert "It may have reached the payer before that: look for it on the portal" in row.notes
    assert len(deliveries(system, task.id)) == 1


def test_a_worker_that_died_while_dispatching_counts_its_claim(system: System) -> None:
    account = system.accounts.create("Clinic").account
    task = poison_row(system, account, status="pending")
    for _ in range(3):
        system.queue.claim("w", 5)  # claimed, never started: the worker died at once
        die(system, task.id)
        assert system.queue.reap() == 1
    row = reload(system, task.id)
    assert row.status == "failed" and row.attempts == 3


def test_a_live_lease_is_left_alone(system: System) -> None:
    account = system.accounts.create("Clinic").account
    task = poison_row(system, account, status="pending")
    [(lease, _)] = system.queue.claim("w", 5)
    start(system, lease)
    assert system.queue.reap() == 0
    assert reload(system, task.id).status == "running"
