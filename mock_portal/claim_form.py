"""Reading a CMS-1500 style claim form: patient, providers, diagnoses A-L and service lines.

Service line inputs are named `line_{i}_{field}`; `line_count` says how many rows the form has.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from mock_portal import validation as v
from mock_portal.forms import DateParser, read_diagnoses, read_patient, text
from mock_portal.models import ServiceLine
from mock_portal.workflows.claims import ClaimForm

LINE_FIELDS = (
    "service_date",
    "place_of_service",
    "procedure_code",
    "modifiers",
    "units",
    "charge",
    "diagnosis_pointers",
)
MAX_LINES = 50


def line_count(form: dict[str, str]) -> int:
    raw = text(form, "line_count")
    count = int(raw) if raw.isdigit() else 1
    return max(1, min(count, MAX_LINES))


def _read_line(
    form: dict[str, str],
    i: int,
    errors: v.FieldErrors,
    parse: DateParser,
    today: date,
    timely: int,
    dx_count: int,
) -> ServiceLine | None:
    def name(field: str) -> str:
        return f"line_{i}_{field}"

    raw_date = text(form, name("service_date"))
    service_date = parse(raw_date) if raw_date else None
    errors.add(name("service_date"), v.check_service_date(service_date, today, raw_date, timely))
    pos = text(form, name("place_of_service"))
    errors.add(name("place_of_service"), v.check_place_of_service(pos))
    code = text(form, name("procedure_code")).upper()
    errors.add(name("procedure_code"), v.check_procedure(code))
    modifiers = [m for m in text(form, name("modifiers")).upper().replace(",", " ").split() if m]
    errors.add(name("modifiers"), v.check_modifiers(modifiers))
    units = text(form, name("units"))
    errors.add(name("units"), v.check_units(units))
    charge = text(form, name("charge"))
    errors.add(name("charge"), v.check_charge(charge))
    pointers = text(form, name("diagnosis_pointers")).upper().replace(",", "").replace(" ", "")
    errors.add(name("diagnosis_pointers"), v.check_pointers(pointers, dx_count))
    amount = v.parse_money(charge)
    if any(name(f) in errors for f in LINE_FIELDS) or service_date is None or amount is None:
        return None
    return ServiceLine(service_date, pos, code, tuple(modifiers), int(units), amount, pointers)


def _read_billing(form: dict[str, str], errors: v.FieldErrors) -> tuple[str, str, str]:
    billing = text(form, "billing_npi")
    errors.add("billing_npi", v.check_npi(billing, "billing provider NPI"))
    tax_id = text(form, "tax_id").replace("-", "")
    errors.add("tax_id", v.check_ein(tax_id))
    rendering = text(form, "rendering_npi")
    if rendering:
        errors.add("rendering_npi", v.check_npi(rendering, "rendering provider NPI"))
    return billing, tax_id, rendering


def parse_claim(
    form: dict[str, str], parse: DateParser, today: date, timely_days: int
) -> ClaimForm | v.FieldErrors:
    errors = v.FieldErrors()
    payer_id = text(form, "payer_id")
    if "payer_id" in form and not payer_id:
        errors.add("payer", "Select a payer from the list.")
    member_id, first, last, dob = read_patient(form, errors, parse, today)
    billing, tax_id, rendering = _read_billing(form, errors)
    diagnoses = read_diagnoses(form, errors)
    lines = [
        _read_line(form, i, errors, parse, today, timely_days, len(diagnoses))
        for i in range(line_count(form))
    ]
    resubmission = text(form, "resubmission_code") or "1"
    original = text(form, "original_claim_number").upper()
    if resubmission not in ("1", "7", "8"):
        errors.add("resubmission_code", "Choose original, replacement (7) or void (8).")
    elif resubmission in ("7", "8") and not original:
        errors.add("original_claim_number", "Enter the original claim number for a replacement or void.")
    if errors or dob is None:
        return errors
    complete = tuple(line for line in lines if line is not None)
    if sum((line.charge for line in complete), Decimal("0")) <= 0:
        errors.add("line_0_charge", "The total charge must be greater than 0.")
        return errors
    return ClaimForm(
        member_id=member_id,
        first_name=first,
        last_name=last,
        date_of_birth=dob,
        billing_npi=billing,
        tax_id=tax_id,
        diagnosis_codes=diagnoses,
        lines=complete,
        rendering_npi=rendering,
        patient_account_number=text(form, "patient_account_number"),
        prior_auth_number=text(form, "prior_auth_number"),
        resubmission_code=resubmission,
        original_claim_number=original,
        payer_id=payer_id,
    )
