"""The task types sopwright knows, as a StrEnum shared by every layer."""

from enum import StrEnum


class TaskType(StrEnum):
    CHECK_ELIGIBILITY = "check_eligibility"
    SUBMIT_CLAIM = "submit_claim"
    SUBMIT_PRIOR_AUTHORIZATION = "submit_prior_authorization"
    SUBMIT_APPEAL = "submit_appeal"
