"""What happened in an attempt -> the task's next state. Pure: no database, no browser.

business outcome (completed / completed_with_issues / failed)  -> that final status, notes from the SOP
Transient (5xx, maintenance, timeout, 429, session expired)     -> pending again with backoff, until
                                                                   the SOP's max_attempts, then failed
NeedsInput (the payer says data is wrong)                       -> waiting_for_input with its message;
                                                                   a form the portal refused (FormRefused)
                                                                   lifts the submit mark: nothing was sent
GateReached / NeedsReview (gate, CAPTCHA, unclear outcome)      -> pending_review
NotListedYet (a recent submission the portal does not list yet)  -> pending again when the listing
                                                                   wait is over; the attempt is given
                                                                   back (the wait bounds it)
LoginRefused                                                    -> failed (the login may be stopped)
UnknownStep, UndeclaredResult (the SOP, scripts, results differ) -> failed
anything else (PortalChanged, a bug)                            -> retried like Transient, then failed
the worker died (its lease expired; decided by the reaper)      -> retried at once, then failed

Before these rules, the portal's breaker (breaker.py, portal_health.py) may take the attempt: a
portal-side fault on a portal that is down (or that this fault marks down) sends the task back to
`pending`, its attempt given back, until the portal is checked again.

Retrying and giving up are `runner.core.retries`; a failed task that got past the submit mark says
it may have reached the payer.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from handlers.engine import GateReached, NotListedYet
from handlers.errors import FormRefused, LoginRefused, NeedsInput, NeedsReview, StepError, Transient
from handlers.registry import UnknownStep
from runner.core.retries import MAY_HAVE_BEEN_SUBMITTED, Decision, retry_or_fail
from runner.core.states import TaskStatus
from sops.render import render_outcome
from sops.results import UndeclaredResult
from sops.schema import Sop
from sops.types import Outcome

__all__ = ["FINAL_STATUS", "Decision", "from_error", "from_outcome"]

# The final status of each business outcome (one to one, by design: see DESIGN.md §2).
FINAL_STATUS: dict[Outcome, TaskStatus] = {
    Outcome.COMPLETED: TaskStatus.COMPLETED,
    Outcome.COMPLETED_WITH_ISSUES: TaskStatus.COMPLETED_WITH_ISSUES,
    Outcome.FAILED: TaskStatus.FAILED,
}


def from_outcome(
    sop: Sop, outcome: Outcome, *, fields: dict[str, Any], result: dict[str, Any], task_number: int
) -> Decision:
    notes = render_outcome(sop, outcome, fields=fields, result=result, task_number=task_number)
    return Decision(FINAL_STATUS[outcome], notes, result=result)


def from_error(
    sop: Sop,
    error: BaseException,
    *,
    attempts: int,
    now: datetime,
    result: dict[str, Any],
    submit_attempted: bool = False,
) -> Decision:
    if isinstance(error, NotListedYet):
        return Decision(
            TaskStatus.PENDING,
            error.message,
            result=result or None,
            run_after=now + timedelta(seconds=error.retry_after),
            given_back=True,
        )
    if isinstance(error, GateReached):
        return Decision(
            TaskStatus.PENDING_REVIEW, error.message, result=result or None, review_step=error.gate
        )
    if isinstance(error, NeedsReview):
        return Decision(TaskStatus.PENDING_REVIEW, error.message, result=result or None)
    if isinstance(error, NeedsInput):
        problems = [{"field": p.field, "message": p.message} for p in error.problems]
        return Decision(
            TaskStatus.WAITING_FOR_INPUT,
            error.message,
            result=result or None,
            problems=problems,
            not_submitted=isinstance(error, FormRefused),
        )
    if isinstance(error, LoginRefused):
        failed = {**result, "failure_reason": error.message}
        return Decision(TaskStatus.FAILED, f"The portal refused the login: {error.message}", result=failed)
    if isinstance(error, UnknownStep):
        failed = {**result, "failure_reason": error.message}
        return Decision(
            TaskStatus.FAILED, f"This SOP cannot run on this portal: {error.message}", result=failed
        )
    if isinstance(error, UndeclaredResult):
        declared = {k: v for k, v in result.items() if k not in error.keys}
        notes = f"The step scripts cannot be trusted for this task: {error.message}."
        if submit_attempted:
            notes += f" {MAY_HAVE_BEEN_SUBMITTED}"
        return Decision(TaskStatus.FAILED, notes, result={**declared, "failure_reason": error.message})
    return retry_or_fail(
        sop,
        attempts=attempts,
        reason=error.message if isinstance(error, StepError) else _plain(error),
        now=now,
        result=result,
        retry_after=error.retry_after if isinstance(error, Transient) else None,
        submit_attempted=submit_attempted,
    )


def _plain(error: BaseException) -> str:
    """A one-line description of an unexpected error, without its (possibly PHI-bearing) text."""
    name = type(error).__name__
    if "Timeout" in name:
        return "the portal did not answer in time"
    if name in ("Error", "TargetClosedError"):
        return "the browser lost the page (network error or crash)"
    return f"unexpected {name}"
