"""Rules spanning several fields of a validated input model (DOMAIN.md §3).

They run after a model validates, so that each problem can name the exact field it concerns
(`service_lines.1.diagnosis_pointers`), which a pydantic model validator cannot.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sops.inputs import codes
from sops.inputs.models import Patient, SubmitClaimInputs, SubmitPriorAuthorizationInputs
from sops.inputs.report import FieldProblem


def cross_problems(inputs: Patient) -> list[FieldProblem]:
    """Rules spanning several fields of a validated model (DOMAIN.md §3)."""
    problems: list[FieldProblem] = []
    payer = inputs.payer.lower()
    if "medicare" in payer and "advantage" not in payer:
        try:
            codes.medicare_id(inputs.member_id)
        except ValueError as exc:
            problems.append(FieldProblem("member_id", f"member ID {exc}"))
    dob = inputs.date_of_birth
    dated = [
        ("service_date", "service date", getattr(inputs, "service_date", None)),
        ("service_from", "service start date", getattr(inputs, "service_from", None)),
    ]
    if isinstance(inputs, SubmitClaimInputs):
        problems += _claim_problems(inputs)
        dated += [
            (f"service_lines.{i}.service_date", f"service line {i + 1} service date", line.service_date)
            for i, line in enumerate(inputs.service_lines)
        ]
    auth = inputs if isinstance(inputs, SubmitPriorAuthorizationInputs) else None
    if auth is not None and auth.service_to is not None and auth.service_to < auth.service_from:
        problems.append(FieldProblem("service_to", "service end date is before the service start date"))
    for path, label, when in dated:
        if isinstance(when, date) and when < dob:
            problems.append(FieldProblem(path, f"{label} {when.isoformat()} is before the date of birth"))
    return problems


def _claim_problems(claim: SubmitClaimInputs) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    filled = codes.POINTER_LETTERS[: len(claim.diagnosis_codes)]
    for i, line in enumerate(claim.service_lines):
        unknown = [pointer for pointer in line.diagnosis_pointers if pointer not in filled]
        if unknown:
            problems.append(
                FieldProblem(
                    f"service_lines.{i}.diagnosis_pointers",
                    f"service line {i + 1} diagnosis pointers {', '.join(unknown)} point past the "
                    f"{len(claim.diagnosis_codes)} diagnosis code(s) given (A-{filled[-1]})",
                )
            )
    total = sum((line.charge for line in claim.service_lines), Decimal("0.00"))
    if claim.total_charge is not None and claim.total_charge != total:
        problems.append(
            FieldProblem(
                "total_charge",
                f"total charge {claim.total_charge:.2f} is not the sum of the service lines ({total:.2f})",
            )
        )
    if claim.resubmission_code in ("7", "8") and claim.original_claim_number is None:
        problems.append(
            FieldProblem(
                "original_claim_number",
                "original claim number (needed to replace or void a claim: resubmission code 7 or 8)",
                missing=True,
            )
        )
    return problems
