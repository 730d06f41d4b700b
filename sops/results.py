"""The structured `result` of each task type: the names handlers fill and SOP outcomes quote.

A task's `result` is one of these models dumped to JSON. Every key is optional because a task may
end before it is known (a login refused leaves only `failure_reason`). The payer's decision is a
field here, never folded into the task status alone (DESIGN.md §2). SOP outcome templates may
only name these keys (`result.claim_number`); the loader checks that. Step scripts may only write
them: the runner checks a result where an attempt concludes (`check_result`), so a misspelt key
fails the attempt (and the tests) instead of reaching the client unnoticed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from sops.types import TaskType

CoverageStatus = Literal["active", "inactive"]
ClaimStatus = Literal["accepted", "rejected", "duplicate", "acknowledged", "in_process"]
AuthDecision = Literal[
    "approved",
    "partially_approved",
    "denied",
    "pended",
    "modified",
    "cancelled",
    "contact_payer",
    "not_required",
]
# Where a claim stands, in X12 277 claim status category terms: A1 acknowledged (received), A2/P*
# pending (accepted into adjudication, in process), F1 finalized and paid, F2 finalized and denied;
# not_found: the payer has no claim matching the search (yet: a new claim takes a while to show).
StatusCategory = Literal["acknowledged", "pending", "finalized_paid", "finalized_denied", "not_found"]
PaymentMethod = Literal["check", "eft"]
# X12 278 HCR01 action codes for the decisions above (not_required has none).
AUTH_DECISION_CODES: dict[str, str] = {
    "approved": "A1",
    "partially_approved": "A2",
    "denied": "A3",
    "pended": "A4",
    "modified": "A6",
    "cancelled": "C",
    "contact_payer": "CT",
}


class TaskResult(BaseModel):
    """Keys every task type's result may carry."""

    model_config = ConfigDict(extra="forbid")

    failure_reason: str | None = None  # one sentence a billing clerk understands, for `failed`
    payer_message: str | None = None  # text the portal showed (rejection, banner, AAA reason)
    reference_number: str | None = None  # the payer's reference / control / case number
    confirmed_at: str | None = None  # ISO 8601 UTC (a bare date if the portal shows only one)
    confirmed_at_text: str | None = None  # that time as the portal printed it
    portal: str | None = None  # which portal (handler package) carried the task out; stamped by the runner


class EligibilityResult(TaskResult):
    coverage_status: CoverageStatus | None = None
    plan_name: str | None = None
    group_number: str | None = None
    coverage_start: str | None = None  # ISO dates
    coverage_end: str | None = None
    copay: str | None = None  # money as "25.00"
    coinsurance_percent: int | None = None
    deductible_total: str | None = None
    deductible_remaining: str | None = None
    out_of_pocket_total: str | None = None
    out_of_pocket_remaining: str | None = None
    network: Literal["in_network", "out_of_network"] | None = None
    payer_notes: str | None = None
    rejection_code: str | None = None  # X12 AAA code when the payer could not answer (e.g. "75")


class ClaimResult(TaskResult):
    claim_number: str | None = None  # the payer's claim number
    claim_status: ClaimStatus | None = None
    rejection_reasons: list[str] = []
    duplicate_of: str | None = None  # the existing claim's number when a duplicate was detected
    total_charge: str | None = None


class PriorAuthorizationResult(TaskResult):
    decision: AuthDecision | None = None
    decision_code: str | None = None  # X12 278 code, see AUTH_DECISION_CODES
    certification_number: str | None = None  # the authorization number to quote on the claim
    effective_date: str | None = None
    expiration_date: str | None = None
    approved_units: int | None = None
    denial_reason: str | None = None


class AppealResult(TaskResult):
    tracking_number: str | None = None  # some payers return none: then find it by claim number
    appeal_status: Literal["received", "in_review", "decided"] | None = None
    original_claim_number: str | None = None


class ClaimStatusResult(TaskResult):
    claim_number: str | None = None  # the payer's claim number (also when found by member + dates)
    status_category: StatusCategory | None = None
    claim_status: str | None = None  # the portal's own words ("Finalized - Paid")
    total_charge: str | None = None  # money as "125.00"
    paid_amount: str | None = None
    paid_date: str | None = None  # ISO date
    payment_method: PaymentMethod | None = None
    payment_number: str | None = None  # the check number or the EFT trace number
    adjustment_codes: list[str] = []  # CARC with its group code: ["CO-50", "PR-1"]
    adjustment_reasons: list[str] = []  # "CO-50: These are non-covered services ..."
    denial_reason: str | None = None


class AuthorizationStatusResult(TaskResult):
    decision: AuthDecision | None = None  # None with payer_message when no such request was found
    decision_code: str | None = None  # X12 278 code, see AUTH_DECISION_CODES
    certification_number: str | None = None
    approved_units: int | None = None
    effective_date: str | None = None
    expiration_date: str | None = None
    denial_reason: str | None = None
    decision_date: str | None = None  # ISO date


RESULTS: dict[TaskType, type[TaskResult]] = {
    TaskType.CHECK_ELIGIBILITY: EligibilityResult,
    TaskType.SUBMIT_CLAIM: ClaimResult,
    TaskType.SUBMIT_PRIOR_AUTHORIZATION: PriorAuthorizationResult,
    TaskType.SUBMIT_APPEAL: AppealResult,
    TaskType.CHECK_CLAIM_STATUS: ClaimStatusResult,
    TaskType.CHECK_AUTHORIZATION_STATUS: AuthorizationStatusResult,
}


class UndeclaredResult(ValueError):
    """A result carries keys its task type does not declare (a bug in the step scripts)."""

    def __init__(self, task_type: TaskType, keys: list[str]) -> None:
        self.message = (
            f"the step scripts recorded result keys that {task_type} does not declare "
            f"({', '.join(keys)}); see sops/results.py"
        )
        super().__init__(self.message)
        self.task_type = task_type
        self.keys = keys


def result_keys(task_type: TaskType) -> frozenset[str]:
    """The names a `result` of `task_type` may carry."""
    return frozenset(RESULTS[task_type].model_fields)


def check_result(task_type: TaskType, result: Mapping[str, Any]) -> None:
    """Raise UndeclaredResult if `result` has a key that `task_type` does not declare."""
    undeclared = sorted(set(result) - result_keys(task_type))
    if undeclared:
        raise UndeclaredResult(task_type, undeclared)
