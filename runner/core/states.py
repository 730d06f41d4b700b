"""Task statuses (exactly Serene's eight) and the one table of allowed transitions."""

from __future__ import annotations

from enum import StrEnum

from runner.core.errors import InvalidTransition


class TaskStatus(StrEnum):
    PENDING = "pending"
    DISPATCHING = "dispatching"
    RUNNING = "running"
    WAITING_FOR_INPUT = "waiting_for_input"
    PENDING_REVIEW = "pending_review"
    COMPLETED = "completed"
    COMPLETED_WITH_ISSUES = "completed_with_issues"
    FAILED = "failed"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES


class Priority(StrEnum):
    """A task's lane: workers take due interactive tasks before due batch tasks."""

    INTERACTIVE = "interactive"  # the default of POST /tasks: someone is waiting for the answer
    BATCH = "batch"  # the default of batches and schedules: throttled, after interactive work


FINAL_STATUSES = frozenset({TaskStatus.COMPLETED, TaskStatus.COMPLETED_WITH_ISSUES, TaskStatus.FAILED})

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
