"""Task statuses (exactly Serene's eight), queue lanes and task files' sources; the table of allowed moves
is `runner.core.transitions`."""

from __future__ import annotations

from enum import StrEnum


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


class FileSource(StrEnum):
    """Where a task file came from."""

    UPLOAD = "upload"  # sent by the client with the task (or with its input)
    PORTAL = "portal"  # kept from the payer portal by a step script (a confirmation, a letter)


FINAL_STATUSES = frozenset({TaskStatus.COMPLETED, TaskStatus.COMPLETED_WITH_ISSUES, TaskStatus.FAILED})
