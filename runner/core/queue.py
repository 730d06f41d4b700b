"""The task queue: leased claims with a fencing token, heartbeats, and a reaper.

A claim moves a due `pending` task to `dispatching`, stamps `lease_owner`, bumps
`lease_token` and sets `lease_expires_at`. Every later write by that worker is conditional on
the token (`Lease`): a worker whose lease was lost (reaped, cancelled) changes nothing.
PostgreSQL claims with `FOR UPDATE SKIP LOCKED`, so workers never wait on each other; SQLite
serialises writers with its immediate transactions (see `runner.core.db`).

Recovery bound: a task whose worker died is claimable again after at most
`lease_seconds + reaper interval`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from runner.core.db import session_scope
from runner.core.states import TaskStatus
from runner.core.tables import Task, utcnow
from runner.core.tables.base import as_utc
from runner.core.transitions import move


@dataclass(frozen=True)
class Lease:
    task_id: str
    owner: str
    token: int


class LeaseLost(Exception):
    """This worker no longer holds the task: stop and write nothing."""


class Queue:
    def __init__(
        self, engine: sa.Engine, *, lease_seconds: float = 60, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._engine = engine
        self.lease_seconds = lease_seconds
        self._clock = clock

    def claim(self, owner: str, limit: int) -> list[tuple[Lease, Task]]:
        """Claim up to `limit` due tasks, oldest due first."""
        if limit <= 0:
            return []
        now = self._clock()
        with session_scope(self._engine) as session:
            statement = (
                select(Task)
                .where(Task.status == TaskStatus.PENDING.value)
                .where(sa.or_(col(Task.run_after).is_(None), col(Task.run_after) <= now))
                .order_by(col(Task.run_after), col(Task.created_at))
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            claimed: list[tuple[Lease, Task]] = []
            for task in session.exec(statement).all():
                task.lease_owner = owner
                task.lease_token += 1
                task.lease_expires_at = now + timedelta(seconds=self.lease_seconds)
                task.attempts += 1
                move(session, task, TaskStatus.DISPATCHING, actor=f"worker:{owner}", action="claim", now=now)
                claimed.append((Lease(task.id, owner, task.lease_token), task))
        return claimed

    def hold(self, session: Session, lease: Lease) -> Task:
        """The task under a still-valid lease, locked for this transaction; LeaseLost otherwise."""
        task = session.exec(select(Task).where(Task.id == lease.task_id).with_for_update()).first()
        if task is None or task.lease_token != lease.token or task.lease_owner != lease.owner:
            raise LeaseLost(lease.task_id)
        return task

    def heartbeat(self, lease: Lease) -> None:
        """Extend the lease; LeaseLost if it was taken away."""
        with session_scope(self._engine) as session:
            result = session.execute(
                sa.update(Task)
                .where(col(Task.id) == lease.task_id)
                .where(col(Task.lease_token) == lease.token)
                .where(col(Task.lease_owner) == lease.owner)
                .values(lease_expires_at=self._clock() + timedelta(seconds=self.lease_seconds))
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                raise LeaseLost(lease.task_id)

    def release(
        self, lease: Lease, *, reason: str, run_after: datetime | None = None, unused: bool = False
    ) -> bool:
        """Give a task back to the queue (shutdown, transient error). False if the lease was lost.

        `unused`: the claim never became an attempt (e.g. its portal login was busy), so it does
        not count toward the task's attempts.
        """
        try:
            with session_scope(self._engine) as session:
                task = self.hold(session, lease)
                _drop_lease(task)
                task.run_after = run_after or self._clock()
                if unused:
                    task.attempts = max(0, task.attempts - 1)
                move(
                    session,
                    task,
                    TaskStatus.PENDING,
                    actor=f"worker:{lease.owner}",
                    action="defer" if unused else "release",
                    message=reason,
                )
        except LeaseLost:
            return False
        return True

    def reap(self, *, limit: int = 100) -> int:
        """Return tasks whose lease expired (their worker died) to the queue; returns how many."""
        now = self._clock()
        with session_scope(self._engine) as session:
            statement = (
                select(Task)
                .where(col(Task.status).in_([TaskStatus.DISPATCHING.value, TaskStatus.RUNNING.value]))
                .where(col(Task.lease_expires_at) < now)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            expired = list(session.exec(statement).all())
            for task in expired:
                owner = task.lease_owner
                _drop_lease(task)
                task.run_after = now
                message = f"Lease of worker {owner} expired; the task goes back to the queue."
                if task.submit_attempted_at is not None:
                    message += " It was past the submit: the next attempt reconciles first."
                move(
                    session, task, TaskStatus.PENDING, actor="reaper", action="reap", message=message, now=now
                )
        return len(expired)

    def next_due_in(self) -> float | None:
        """Seconds until the next pending task is due (0 if one is due now), None if none is pending."""
        with session_scope(self._engine, readonly=True) as session:
            soonest, any_pending = session.execute(
                select(sa.func.min(Task.run_after), sa.func.count()).where(
                    Task.status == TaskStatus.PENDING.value
                )
            ).one()
        if not any_pending:
            return None
        due = as_utc(soonest)
        return 0.0 if due is None else max(0.0, (due - self._clock()).total_seconds())


def _drop_lease(task: Task) -> None:
    task.lease_owner = None
    task.lease_expires_at = None
