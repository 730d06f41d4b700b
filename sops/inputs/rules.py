"""Rules spanning several fields of a validated input model (DOMAIN.md §3).

They run after a model validates, so that each problem can name the exact field it concerns
(`service_lines.1.diagnosis_pointers`), which a pydantic model validator cannot.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sops.fields import FIELDS
from sops.inputs import codes
from sops.inputs.models import (
    CheckAuthorizationStatusInputs,
    CheckClaimStatusInputs,
    StatusLookup,
    SubmitClaimInputs,
    TaskInputs,
)
from sops.inputs.report import FieldProblem

MEMBER = ("member_id", "patient_first_name", "patient_last_name", "date_of_birth")
# What finds a record without the payer's number, per status check (after the member fields).
BY_MEMBER: dict[type[StatusLookup], tuple[str, ...]] = {
    CheckClaimStatusInputs: ("service_date_from",),
    CheckAuthorizationStatusInputs: ("procedure_code", "service_from"),
}
BY_NUMBER: dict[type[StatusLookup], tuple[str, ...]] = {
    CheckClaimStatusInputs: ("claim_number",),
    CheckAuthorizationStatusInputs: ("reference_number", "certification_number"),
}


def cross_problems(inputs: TaskInputs) -> list[FieldProblem]:
    """Rules spanning several fields of a validated model (DOMAIN.md §3)."""
    problems: list[FieldProblem] = []
    if isinstance(inputs, StatusLookup):
        problems += _lookup_problems(inputs)
    payer = inputs.payer.lower()
    member_id = getattr(inputs, "member_id", None)
    if "medicare" in payer and "advantage" not in payer and member_id is not None:
        try:
            codes.medicare_id(member_id)
        except ValueError as exc:
            problems.append(FieldProblem("member_id", f"member ID {exc}"))
    dob = getattr(inputs, "date_of_birth", None)
    dated = [
        ("service_date", "service date", getattr(inputs, "service_date", None)),
        ("service_from", "service start date", getattr(inputs, "service_from", None)),
        ("service_date_from", "first date of service", getattr(inputs, "service_date_from", None)),
    ]
    if isinstance(inputs, SubmitClaimInputs):
        problems += _claim_problems(inputs)
        dated += [
            (f"service_lines.{i}.service_date", f"service line {i + 1} service date", line.service_date)
            for i, line in enumerate(inputs.service_lines)
        ]
    for start, end, label in (
        ("service_from", "service_to", "service end date is before the service start date"),
        ("service_date_from", "service_date_to", "last date of service is before the first date of service"),
    ):
        first, last = getattr(inputs, start, None), getattr(inputs, end, None)
        if isinstance(first, date) and isinstance(last, date) and last < first:
            problems.append(FieldProblem(end, label))
    for path, label, when in dated:
        if isinstance(when, date) and isinstance(dob, date) and when < dob:
            problems.append(FieldProblem(path, f"{label} {when.isoformat()} is before the date of birth"))
    return problems


def _lookup_problems(lookup: StatusLookup) -> list[FieldProblem]:
    """A status check needs the payer's number, or every field that finds the record by member.

    Nothing given: one problem naming both ways. Part of the member search given: each field it
    still lacks, so the note says exactly what to add (or to send the number instead).
    """
    numbers = BY_NUMBER[type(lookup)]
    if any(getattr(lookup, name) is not None for name in numbers):
        return []
    search = (*MEMBER, *BY_MEMBER[type(lookup)])
    missing = [name for name in search if getattr(lookup, name) is None]
    number_words = " or ".join(FIELDS[name].label for name in numbers)
    if len(missing) == len(search):
        wanted = ", ".join(FIELDS[name].label for name in search)
        return [
            FieldProblem(
                numbers[0], f"{number_words} (or, to search by member instead: {wanted})", missing=True
            )
        ]
    return [
        FieldProblem(
            name, f"{FIELDS[name].label} (to search by member; or give the {number_words})", missing=True
        )
        for name in missing
    ]


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
