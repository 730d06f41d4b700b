"""The task types sopwright knows, the business outcomes a task can end in and the kinds of document
a portal gives: StrEnums shared by every layer (the SOP schema, the renderer, the handlers, the
runner)."""

from enum import StrEnum


class TaskType(StrEnum):
    CHECK_ELIGIBILITY = "check_eligibility"
    SUBMIT_CLAIM = "submit_claim"
    SUBMIT_PRIOR_AUTHORIZATION = "submit_prior_authorization"
    SUBMIT_APPEAL = "submit_appeal"
    CHECK_CLAIM_STATUS = "check_claim_status"
    CHECK_AUTHORIZATION_STATUS = "check_authorization_status"


class Outcome(StrEnum):
    """The business outcome of a task's work: what a step script decides, what a SOP's `outcomes`
    say for each, and (one to one) the final status the runner gives the task."""

    COMPLETED = "completed"
    COMPLETED_WITH_ISSUES = "completed_with_issues"
    FAILED = "failed"


class DocumentKind(StrEnum):
    """What a document kept from a portal is (a task file with `source: portal`)."""

    CONFIRMATION = "confirmation"  # the confirmation page of a submission, printed as a PDF
    APPROVAL_LETTER = "approval_letter"
    DENIAL_LETTER = "denial_letter"
    EOB = "eob"  # explanation of benefits / remittance of a finalized claim
    DOCUMENT = "document"  # anything else the portal offers
