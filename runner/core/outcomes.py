"""What happened in an attempt -> the task's next state. Pure: no database, no browser.

business outcome (completed / completed_with_issues / failed)  -> that final status, notes from the SOP
Transient (5xx, maintenance, timeout, 429, session expired)     -> pending again with backoff, until
                                                                   the SOP's max_attempts, then failed
NeedsInput (the payer says data is wrong)                       -> waiting_for_input with its message
GateReached / NeedsReview (gate, CAPTCHA, unclear outcome)      -> pending_review
LoginRefused                                                    -> failed (the login may be stopped)
anything else (PortalChanged, UnknownStep, a bug)               -> retried like Transient, then failed
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from handlers.context import Outcome
from handlers.engine import GateReached
from handlers.errors import LoginRefused, NeedsInput, NeedsReview, StepError, Transient
from handlers.registry import UnknownStep
from runner.core.states import TaskStatus
from sops.render import render_outcome
from sops.schema import Sop


@dataclass(frozen=True)
class Decision:
    status: TaskStatus
    notes: str
    result: dict[str, Any] | None = None
    run_after: datetime | None = None
    review_step: str | None = None
    problems: list[dict[str, str]] = field(default_factory=list)


def from_outcome(
    sop: Sop, outcome: Outcome, *, fields: dict[str, Any], result: dict[str, Any], task_number: int
) -> Decision:
    notes = render_outcome(sop, outcome.value, fields=fields, result=result, task_number=task_number)
    return Decision(TaskStatus(outcome.value), notes, result=result)


def backoff(sop: Sop, attempt: int, retry_after: float | None) -> float:
    """Seconds before the next attempt: exponential per the SOP, at least what the portal asked."""
    retry = sop.retry
    exponential = retry.backoff_seconds * retry.backoff_multiplier ** max(0, attempt - 1)
    delay = min(exponential, retry.max_backoff_seconds)
    return max(delay, retry_after or 0.0)


def from_error(
    sop: Sop, error: BaseException, *, attempts: int, now: datetime, result: dict[str, Any]
) -> Decision:
    if isinstance(error, GateReached):
        return Decision(
            TaskStatus.PENDING_REVIEW, error.message, result=result or None, review_step=error.gate
        )
    if isinstance(error, NeedsReview):
        return Decision(TaskStatus.PENDING_REVIEW, error.message, result=result or None)
    if isinstance(error, NeedsInput):
        problems = [{"field": p.field, "message": p.message} for p in error.problems]
        return Decision(TaskStatus.WAITING_FOR_INPUT, error.message, result=result or None, problems=problems)
    if isinstance(error, LoginRefused):
        failed = {**result, "failure_reason": error.message}
        return Decision(TaskStatus.FAILED, f"The portal refused the login: {error.message}", result=failed)
    if isinstance(error, UnknownStep):
        failed = {**result, "failure_reason": error.message}
        return Decision(
            TaskStatus.FAILED, f"This SOP cannot run on this portal: {error.message}", result=failed
        )
    message = error.message if isinstance(error, StepError) else _plain(error)
    if attempts >= sop.retry.max_attempts:
        failed = {**result, "failure_reason": message}
        return Decision(
            TaskStatus.FAILED,
            f"Gave up after {attempts} attempt{'s' if attempts != 1 else ''}: {message}",
            result=failed,
        )
    retry_after = error.retry_after if isinstance(error, Transient) else None
    delay = backoff(sop, attempts, retry_after)
    return Decision(
        TaskStatus.PENDING,
        f"Attempt {attempts} of {sop.retry.max_attempts} did not finish ({message}); "
        f"retrying in {delay:.0f} s.",
        result=result or None,
        run_after=now + timedelta(seconds=delay),
    )


def _plain(error: BaseException) -> str:
    """A one-line description of an unexpected error, without its (possibly PHI-bearing) text."""
    name = type(error).__name__
    if "Timeout" in name:
        return "the portal did not answer in time"
    if name in ("Error", "TargetClosedError"):
        return "the browser lost the page (network error or crash)"
    return f"unexpected {name}"
