"""Typed task inputs: one model per task type, checked against DOMAIN.md §3, with clerk-readable notes."""

from sops.fields import TYPE_RULES, FieldHint, field_hints
from sops.inputs.check import TIMELY_FILING_KEY, check_inputs
from sops.inputs.codes import preload_code_set
from sops.inputs.documents import text_from_documents
from sops.inputs.models import (
    MODELS,
    CheckAuthorizationStatusInputs,
    CheckClaimStatusInputs,
    CheckEligibilityInputs,
    RequestedProcedure,
    ServiceLine,
    SubmitAppealInputs,
    SubmitClaimInputs,
    SubmitPriorAuthorizationInputs,
)
from sops.inputs.report import FieldProblem, InputCheck

__all__ = [
    "MODELS",
    "TIMELY_FILING_KEY",
    "TYPE_RULES",
    "CheckAuthorizationStatusInputs",
    "CheckClaimStatusInputs",
    "CheckEligibilityInputs",
    "FieldHint",
    "FieldProblem",
    "InputCheck",
    "RequestedProcedure",
    "ServiceLine",
    "SubmitAppealInputs",
    "SubmitClaimInputs",
    "SubmitPriorAuthorizationInputs",
    "check_inputs",
    "field_hints",
    "preload_code_set",
    "text_from_documents",
]
