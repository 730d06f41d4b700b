"""The one table of allowed status moves, and the one place where a task's status is written:
`move` checks the table, stamps times, logs an event and writes the webhook outbox row; `insert`
stores a new task with its first status and events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from runner.core import batchstate
from runner.core.errors import InvalidTransition
from runner.core.states import TaskStatus
from runner.core.tables import Task, TaskEvent, next_public_id, utcnow
from runner.core.tables.base import detached
from runner.core.webhooks import outbox

S = TaskStatus
# Every status write goes through `check_transition`. Cancelling is a move to FAILED, which is
# why every non-final status may go to FAILED.
TRANSITIONS: dict[TaskStatus, frozenset[TaskStatus]] = {
    S.PENDING: frozenset({S.DISPATCHING, S.WAITING_FOR_INPUT, S.FAILED}),
    # An attempt that ends before its browser opens (no login for the payer, the login stopped)
    # goes from dispatching straight to where it waits or fails.
    S.DISPATCHING: frozenset({S.RUNNING, S.PENDING, S.WAITING_FOR_INPUT, S.FAILED}),
    S.RUNNING: frozenset(
        {S.PENDING, S.WAITING_FOR_INPUT, S.PENDING_REVIEW, S.COMPLETED, S.COMPLETED_WITH_ISSUES, S.FAILED}
    ),
    S.WAITING_FOR_INPUT: frozenset({S.PENDING, S.WAITING_FOR_INPUT, S.FAILED}),
    S.PENDING_REVIEW: frozenset({S.PENDING, S.FAILED}),
    S.COMPLETED: frozenset(),
    S.COMPLETED_WITH_ISSUES: frozenset(),
    S.FAILED: frozenset(),
}


def can_transition(current: TaskStatus, target: TaskStatus) -> bool:
    return target in TRANSITIONS[current]


def check_transition(current: TaskStatus, target: TaskStatus, *, action: str) -> None:
    """Raise InvalidTransition with a sentence saying why `action` is refused."""
    if can_transition(current, target):
        return
    if current.is_final:
        reason = f"the task is already final ({current.value})"
    else:
        reason = f"the task is {current.value}"
    raise InvalidTransition(
        f"Cannot {action}: {reason}.", status=current.value, requested=target.value, action=action
    )


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


_TASKS: sa.Table = Task.__table__  # type: ignore[attr-defined]
_EVENTS: sa.Table = TaskEvent.__table__  # type: ignore[attr-defined]
_INSERT_TASK = _TASKS.insert()
_INSERT_EVENTS = _EVENTS.insert()


def insert(session: Session, row: dict[str, Any], *, actor: str, now: datetime) -> Task:
    """Store a new task (`row`: every column, built by `Tasks.insert`) in the caller's transaction:
    the row (its public id drawn here), the `create` event and, when it starts waiting_for_input
    (its `notes` say why), the move there from pending with its outbox row, as `move` writes it.
    Returns the task as stored, detached (a caller may `session.add` it to change it).

    Core inserts on the session's connection: the ORM's unit of work (building the task and its
    events, flushing them) cost more CPU than the rest of a create together. Files and later
    events may refer to the task at once.
    """
    first = TaskStatus(row["status"])
    if first not in (TaskStatus.PENDING, TaskStatus.WAITING_FOR_INPUT):
        raise ValueError(f"a new task is pending or waiting_for_input, not {first.value}")
    connection = session.connection()
    if row["public_id"] is None:
        row["public_id"] = next_public_id(connection, _TASKS.name)
    connection.execute(_INSERT_TASK, row)
    task = detached(Task, row)
    events: list[dict[str, Any]] = [_event(task, actor, "create", "Task created.", now)]
    if first is not TaskStatus.PENDING:
        events.append(_event(task, actor, "create", task.notes, now, TaskStatus.PENDING, first))
    # One event (a task created pending) as a single execution: a list of one is an executemany.
    connection.execute(_INSERT_EVENTS, events[0] if len(events) == 1 else events)
    if first is not TaskStatus.PENDING:
        outbox.on_transition(session, task, TaskStatus.PENDING, first, now)
    return task


def _event(
    task: Task,
    actor: str,
    kind: str,
    message: str | None,
    at: datetime,
    from_status: TaskStatus | None = None,
    to_status: TaskStatus | None = None,
) -> dict[str, Any]:
    """A `task_events` row's values (its id is the database's)."""
    return {
        "task_id": task.id,
        "account_id": task.account_id,
        "at": at,
        "actor": actor,
        "kind": kind,
        "from_status": from_status,
        "to_status": to_status,
        "message": message,
    }
