"""The mapping from what happened in an attempt to the task's next state (no browser, no DB)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from handlers.engine import GateReached, NotListedYet
from handlers.errors import (
    FormRefused,
    InputProblem,
    LoginRefused,
    NeedsInput,
    NeedsReview,
    PortalChanged,
    Transient,
)
from handlers.registry import UnknownStep
from runner.core import outcomes
from runner.core.states import TaskStatus
from sops.loader import SopLibrary
from sops.results import UndeclaredResult, check_result
from sops.types import Outcome, TaskType

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
SOP = SopLibrary.builtin().get(TaskType.SUBMIT_CLAIM)


def test_business_outcomes_use_the_sop_notes() -> None:
    decision = outcomes.from_outcome(
        SOP, Outcome.COMPLETED, fields={}, result={"claim_number": "PA-2025-03-1842"}, task_number=3
    )
    assert decision.status is TaskStatus.COMPLETED
    assert decision.notes == "Claim submitted with reference PA-2025-03-1842."
    failed = outcomes.from_outcome(
        SOP, Outcome.FAILED, fields={}, result={"rejection_reasons": ["Invalid member"]}, task_number=3
    )
    assert failed.status is TaskStatus.FAILED and "Invalid member" in failed.notes


def test_transient_is_retried_with_backoff_then_fails() -> None:
    retry = SOP.retry
    first = outcomes.from_error(SOP, Transient("payer unavailable"), attempts=1, now=NOW, result={})
    assert first.status is TaskStatus.PENDING
    assert first.run_after == NOW + timedelta(seconds=retry.backoff_seconds)
    second = outcomes.from_error(SOP, Transient("down"), attempts=2, now=NOW, result={})
    assert second.run_after == NOW + timedelta(seconds=retry.backoff_seconds * retry.backoff_multiplier)
    asked = outcomes.from_error(SOP, Transient("429", retry_after=3600), attempts=1, now=NOW, result={})
    assert asked.run_after == NOW + timedelta(seconds=3600)
    last = outcomes.from_error(
        SOP, Transient("payer unavailable"), attempts=retry.max_attempts, now=NOW, result={}
    )
    assert last.status is TaskStatus.FAILED
    assert last.notes == f"Gave up after {retry.max_attempts} attempts: payer unavailable"
    assert last.result == {"failure_reason": "payer unavailable"}


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (
            NeedsInput("DOB does not match", problems=[InputProblem("date_of_birth", "mismatch")]),
            TaskStatus.WAITING_FOR_INPUT,
        ),
        (NeedsReview("CAPTCHA shown"), TaskStatus.PENDING_REVIEW),
        (GateReached("review", gate="submit"), TaskStatus.PENDING_REVIEW),
        (LoginRefused("wrong password"), TaskStatus.FAILED),
        (UnknownStep("no such script"), TaskStatus.FAILED),
        (PortalChanged("no claim form"), TaskStatus.PENDING),
        (RuntimeError("a bug with PHI Jane Doe"), TaskStatus.PENDING),
    ],
)
def test_error_mapping(error: Exception, status: TaskStatus) -> None:
    decision = outcomes.from_error(SOP, error, attempts=1, now=NOW, result={})
    assert decision.status is status
    assert "Jane" not in decision.notes


def test_needs_input_carries_problems_and_gate_its_step() -> None:
    wrong = NeedsInput(
        "The payer says the DOB does not match.", problems=[InputProblem("date_of_birth", "mismatch")]
    )
    decision = outcomes.from_error(SOP, wrong, attempts=1, now=NOW, result={})
    assert decision.problems == [{"field": "date_of_birth", "message": "mismatch"}]
    gate = outcomes.from_error(SOP, GateReached("big claim", gate="submit"), attempts=1, now=NOW, result={})
    assert gate.review_step == "submit"


def test_a_form_the_portal_refused_lifts_the_submit_mark() -> None:
    """The portal showed the form again with its errors: nothing was sent, so the attempt after
    the input submits without reconciling; a payer's own "this is wrong" keeps the mark."""
    problem = [InputProblem("tax_id", "Billing Tax ID does not match the selected organization")]
    refused = FormRefused("Beacon Exchange refused the form", problems=problem)
    decision = outcomes.from_error(SOP, refused, attempts=1, now=NOW, result={}, submit_attempted=True)
    assert decision.status is TaskStatus.WAITING_FOR_INPUT and decision.not_submitted
    said = NeedsInput("The payer says the DOB does not match.", problems=problem)
    assert not outcomes.from_error(
        SOP, said, attempts=1, now=NOW, result={}, submit_attempted=True
    ).not_submitted


def test_a_submission_not_listed_yet_waits_without_spending_an_attempt() -> None:
    """Even on the SOP's last attempt: the wait is bounded by the listing delay, not by attempts."""
    error = NotListedYet("The portal does not list the earlier submission yet.", retry_after=600)
    last = SOP.retry.max_attempts
    decision = outcomes.from_error(SOP, error, attempts=last, now=NOW, result={}, submit_attempted=True)
    assert decision.status is TaskStatus.PENDING and decision.given_back
    assert decision.run_after == NOW + timedelta(seconds=600)
    assert decision.notes == error.message


def test_an_error_past_the_submit_says_what_happens_to_the_submission() -> None:
    retry = SOP.retry
    again = outcomes.from_error(SOP, Transient("down"), attempts=1, now=NOW, result={}, submit_attempted=True)
    assert again.status is TaskStatus.PENDING
    assert again.notes.endswith("It got past the submit: the next attempt first looks for it on the portal.")
    spent = outcomes.from_error(
        SOP, Transient("down"), attempts=retry.max_attempts, now=NOW, result={}, submit_attempted=True
    )
    assert spent.status is TaskStatus.FAILED
    assert spent.notes == (
        f"Gave up after {retry.max_attempts} attempts: down. It may have reached the payer before that: "
        "look for it on the portal before sending it again."
    )


def test_a_result_key_the_task_type_does_not_declare_fails_the_task() -> None:
    result = {"claim_numbr": "X1", "claim_status": "accepted", "portal": "acme"}
    with pytest.raises(UndeclaredResult, match="claim_numbr") as caught:
        check_result(TaskType.SUBMIT_CLAIM, result)
    check_result(TaskType.SUBMIT_CLAIM, {"claim_number": "X1", "portal": "acme"})  # declared: no error
    decision = outcomes.from_error(
        SOP, caught.value, attempts=1, now=NOW, result=result, submit_attempted=True
    )
    assert decision.status is TaskStatus.FAILED
    assert "claim_numbr" in decision.notes and "may have reached the payer" in decision.notes
    assert decision.result is not None and "claim_numbr" not in decision.result
    assert decision.result["claim_status"] == "accepted"
