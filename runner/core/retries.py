"""An attempt that did not finish: retried on the SOP's back-off until its attempts are spent,
then failed. Pure: no database, no browser, no step scripts.

`outcomes.from_error` uses it for errors of a run and for crashes around it; the queue's reaper
uses it for an attempt whose worker died (its lease expired). Either way the attempt counts, so
every task reaches a final state after at most `retry.max_attempts` attempts. A task that got
past the submit mark (DESIGN.md §5) is reconciled by its next attempt, never submitted blindly;
if it is failed instead, its notes say that it may have been submitted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from runner.core.states import TaskStatus
from sops.schema import Sop

MAY_HAVE_BEEN_SUBMITTED = (
    "It may have reached the payer before that: look for it on the portal before sending it again."
)
RECONCILES_FIRST = "It got past the submit: the next attempt first looks for it on the portal."


@dataclass(frozen=True)
class Decision:
    """What an attempt leaves on its task: the next status, notes a billing clerk understands."""

    status: TaskStatus
    notes: str
    result: dict[str, Any] | None = None
    run_after: datetime | None = None
    review_step: str | None = None
    problems: list[dict[str, str]] = field(default_factory=list)
    # The portal refused the form with its errors: the submit mark is lifted, the next attempt
    # submits without reconciling (there is nothing to find).
    not_submitted: bool = False
    # The attempt does not count against the SOP's attempts (it was bounded otherwise: e.g. a
    # reconciliation waiting for the portal to list a submission, bounded by that wait).
    given_back: bool = False


def backoff(sop: Sop, attempt: int, retry_after: float | None) -> float:
    """Seconds before the next attempt: exponential per the SOP, at least what the portal asked."""
    retry = sop.retry
    exponential = retry.backoff_seconds * retry.backoff_multiplier ** max(0, attempt - 1)
    delay = min(exponential, retry.max_backoff_seconds)
    return max(delay, retry_after or 0.0)


def retry_or_fail(
    sop: Sop,
    *,
    attempts: int,
    reason: str,
    now: datetime,
    result: dict[str, Any],
    retry_after: float | None = None,
    at_once: bool = False,
    submit_attempted: bool = False,
) -> Decision:
    """`pending` again after the back-off (or `at_once`) while attempts are left, else `failed`.

    `reason` is one clause without PHI ("the portal did not answer in time"); `attempts` counts
    the attempt that just ended.
    """
    if attempts >= sop.retry.max_attempts:
        notes = f"Gave up after {attempts} attempt{'s' if attempts != 1 else ''}: {reason}"
        if submit_attempted:
            notes += f". {MAY_HAVE_BEEN_SUBMITTED}"
        return Decision(TaskStatus.FAILED, notes, result={**result, "failure_reason": reason})
    delay = 0.0 if at_once else backoff(sop, attempts, retry_after)
    when = "retrying now" if delay <= 0 else f"retrying in {delay:.0f} s"
    notes = f"Attempt {attempts} of {sop.retry.max_attempts} did not finish ({reason}); {when}."
    if submit_attempted:
        notes += f" {RECONCILES_FIRST}"
    return Decision(
        TaskStatus.PENDING, notes, result=result or None, run_after=now + timedelta(seconds=delay)
    )
