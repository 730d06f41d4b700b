"""The task queue: leased claims with a fencing token, heartbeats, and a reaper.

A claim moves a due `pending` task to `dispatching`, stamps `lease_owner`, bumps
`lease_token` and sets `lease_expires_at`. Every later write by that worker is conditional on
the token (`Lease`): a worker whose lease was lost (reaped, cancelled) changes nothing.
PostgreSQL claims with `FOR UPDATE SKIP LOCKED`, so workers never wait on each other; SQLite
serialises writers with its immediate transactions (see `runner.core.db`).

Recovery bound: a task whose worker died is claimable again after at most
`lease_seconds + reaper interval`. The dead worker's attempt counts like any other (a task that
kills its worker every time fails after the SOP's `max_attempts`, with its webhook); see
`runner.core.retries`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from runner.core import retries
from runner.core.db import rowcount, session_scope
from runner.core.sopbook import SopBook
from runner.core.states import Priority, TaskStatus
from runner.core.tables import Task, Trajectory, utcnow
from runner.core.tables.base import as_utc
from runner.core.transitions import move

log = logging.getLogger(__name__)

_LEASED = (TaskStatus.DISPATCHING, TaskStatus.RUNNING)
# The lanes: a due interactive task goes before every due batch task, whatever their due times.
_LANE_ORDER = sa.case((col(Task.priority) == Priority.INTERACTIVE.value, 0), else_=1)


@dataclass(frozen=True)
class Lease:
    task_id: str
    owner: str
    token: int


class LeaseLost(Exception):
    """This worker no longer holds the task: stop and write nothing."""


class Queue:
    def __init__(
        self,
        engine: sa.Engine,
        *,
        sops: SopBook,
        lease_seconds: float = 60,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._engine = engine
        self._sops = sops  # the reaper decides by the task's SOP (its max_attempts)
        self.lease_seconds = lease_seconds
        self._clock = clock

    def claim(self, owner: str, limit: int) -> list[tuple[Lease, Task]]:
        """Claim up to `limit` due tasks: interactive before batch, then oldest due first."""
        if limit <= 0:
            return []
        now = self._clock()
        with session_scope(self._engine) as session:
            statement = (
                select(Task)
                .where(Task.status == TaskStatus.PENDING)
                .where(sa.or_(col(Task.run_after).is_(None), col(Task.run_after) <= now))
                .order_by(_LANE_ORDER, col(Task.run_after), col(Task.created_at))
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            claimed: list[tuple[Lease, Task]] = []
            for task in session.exec(statement).all():
                task.lease_owner = owner
                task.lease_token += 1
                task.lease_expires_at = now + timedelta(seconds=self.lease_seconds)
                task.attempts += 1
                task.held_for_portal = None
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
            if rowcount(result) != 1:
                raise LeaseLost(lease.task_id)

    def release(
        self,
        lease: Lease,
        *,
        reason: str,
        run_after: datetime | None = None,
        unused: bool = False,
        held_for: str | None = None,
    ) -> bool:
        """Give a task back to the queue (shutdown, transient error). False if the lease was lost.

        `unused`: the claim never became an attempt (e.g. its portal login was busy), so it does
        not count toward the task's attempts. `held_for`: the portal is down (portal_health.py);
        `reason` becomes the task's notes, and the task is due again as soon as the portal answers.
        """
        try:
            with session_scope(self._engine) as session:
                task = self.hold(session, lease)
                drop_lease(task)
                task.run_after = run_after or self._clock()
                if held_for is not None:
                    task.held_for_portal = held_for
                    task.notes = reason
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
        """Settle tasks whose lease expired (their worker died); returns how many.

        The attempt counts: with attempts left the task is queued again at once (the recovery
        bound), its next attempt reconciling first if it got past the submit; with none left it
        fails, with its webhook. Each task is settled in its own transaction, so one that cannot
        be settled (it is logged) does not hold back the others.
        """
        now = self._clock()
        with session_scope(self._engine, readonly=True) as session:
            expired = list(session.exec(_expired(now).limit(limit)).all())
        reaped = 0
        for task in expired:
            try:
                reaped += self._reap_one(task.id, now)
            except Exception:
                log.exception("an expired task could not be settled", extra={"task_id": task.id})
        return reaped

    def _reap_one(self, task_id: str, now: datetime) -> int:
        with session_scope(self._engine) as session:
            # Checked again under the lock: a heartbeat, a finish or another reaper may have won.
            statement = _expired(now).where(col(Task.id) == task_id).with_for_update(skip_locked=True)
            task = session.exec(statement).first()
            if task is None:
                return 0
            owner = task.lease_owner
            sop = self._sops.for_task(task, session=session)
            decision = retries.retry_or_fail(
                sop,
                attempts=task.attempts,
                reason="the worker running it stopped before finishing",
                now=now,
                result=dict(task.result or {}),
                at_once=True,
                submit_attempted=task.submit_attempted_at is not None,
            )
            running = task.status is TaskStatus.RUNNING
            conclude(
                session,
                task,
                decision,
                actor="reaper",
                action="reap",
                trajectory_id=task.trajectory_id if running else None,
                now=now,
            )
        log.info(
            "expired lease settled",
            extra={
                "task_id": task_id,
                "worker": owner,
                "attempts": task.attempts,
                "status": decision.status.value,
            },
        )
        return 1

    def next_due_in(self) -> float | None:
        """Seconds until the next pending task is due (0 if one is due now), None if none is pending."""
        with session_scope(self._engine, readonly=True) as session:
            soonest, any_pending = session.execute(
                select(sa.func.min(Task.run_after), sa.func.count()).where(Task.status == TaskStatus.PENDING)
            ).one()
        if not any_pending:
            return None
        due = as_utc(soonest)
        return 0.0 if due is None else max(0.0, (due - self._clock()).total_seconds())


def drop_lease(task: Task) -> None:
    """The task is no worker's any more (its token stays: it fences the last holder's writes)."""
    task.lease_owner = None
    task.lease_expires_at = None


def _expired(now: datetime) -> SelectOfScalar[Task]:
    return select(Task).where(col(Task.status).in_(_LEASED)).where(col(Task.lease_expires_at) < now)


def conclude(
    session: Session,
    task: Task,
    decision: retries.Decision,
    *,
    actor: str,
    action: str,
    trajectory_id: str | None,
    now: datetime,
    trace_path: str | None = None,
) -> None:
    """Write an attempt's decision on the task (dropping the lease) and close its trajectory."""
    task.notes = decision.notes
    task.result = decision.result
    task.problems = decision.problems
    drop_lease(task)
    if decision.run_after is not None:
        task.run_after = decision.run_after
    if decision.review_step is not None:
        task.review_step = decision.review_step
    if decision.not_submitted:
        task.submit_attempted_at = None
    if decision.given_back:
        task.attempts = max(0, task.attempts - 1)
    move(session, task, decision.status, actor=actor, action=action, message=decision.notes, now=now)
    trajectory = session.get(Trajectory, trajectory_id) if trajectory_id else None
    if trajectory is not None and trajectory.ended_at is None:
        trajectory.outcome = decision.status
        trajectory.message = decision.notes
        trajectory.trace_path = trace_path
        trajectory.ended_at = now
        session.add(trajectory)
