"""The one place where a task's status is written: checks the table, stamps times, logs an event."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from runner.core import batchstate
from runner.core.states import TaskStatus, check_transition
from runner.core.tables import Task, TaskEvent, utcnow
from runner.core.webhooks import outbox


def move(
    session: Session,
    task: Task,
    target: TaskStatus,
    *,
    actor: str,
    action: str,
    message: str | None = None,
    now: datetime | None = None,
) -> None:
    """Move `task` to `target` inside the caller's transaction, or raise InvalidTransition.

    A move to a final state also writes the `task_finished` webhook delivery (the outbox) in this
    same transaction; its task snapshot is taken at commit.
    """
    current = task.status
    check_transition(current, target, action=action)
    now = now or utcnow()
    task.status = target
    task.updated_at = now
    if target is TaskStatus.RUNNING and task.started_at is None:
        task.started_at = now
    if target in (TaskStatus.COMPLETED, TaskStatus.COMPLETED_WITH_ISSUES):
        task.completed_at = now
    elif target is TaskStatus.FAILED:
        task.failed_at = now
    session.add(task)
    session.add(
        TaskEvent(
            task_id=task.id,
            account_id=task.account_id,
            at=now,
            actor=actor,
            kind=action,
            from_status=current,
            to_status=target,
            message=message,
        )
    )
    outbox.on_transition(session, task, current, target, now)
    if target.is_final and task.batch_id is not None:
        batchstate.on_task_final(session, task, now)  # the batch_finished event, once


def record(session: Session, task: Task, *, actor: str, kind: str, message: str | None = None) -> None:
    """A timeline event that does not change the status (e.g. input that is still incomplete)."""
    session.add(
        TaskEvent(task_id=task.id, account_id=task.account_id, actor=actor, kind=kind, message=message)
    )
