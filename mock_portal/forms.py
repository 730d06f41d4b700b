"""Reading submitted forms into the workflows' typed inputs, collecting field errors on the way.

Both payers use the same input names (the canonical field names); their labels, layout and date
formats differ. `DateParser` is the payer's date format (Acme MM/DD/YYYY, Beacon ISO from
`<input type=date>`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from mock_portal import validation as v
from mock_portal.workflows.appeals import AppealForm
from mock_portal.workflows.auths import AuthForm, Procedure
from mock_portal.workflows.eligibility import Inquiry

DateParser = Callable[[str], date | None]
DX_SLOTS = "ABCDEFGHIJKL"
UNIT_TYPES = {"units": "Units", "visits": "Visits", "days": "Days"}


def form_dict(items: Any) -> dict[str, str]:
    """The text fields of a submitted form (first value of each), stripped."""
    out: dict[str, str] = {}
    for key, val in items.multi_items():
        if isinstance(val, str) and key not in out:
            out[key] = val.strip()
    return out


def text(form: dict[str, str], name: str) -> str:
    return form.get(name, "").strip()


def read_date(
    form: dict[str, str], name: str, parse: DateParser, errors: v.FieldErrors, label: str
) -> date | None:
    raw = text(form, name)
    if not raw:
        errors.add(name, f"Enter the {label}.")
        return None
    value = parse(raw)
    if value is None:
        errors.add(name, f"Enter the {label} as a real date.")
    return value


def read_patient(
    form: dict[str, str], errors: v.FieldErrors, parse: DateParser, today: date
) -> tuple[str, str, str, date | None]:
    member_id = text(form, "member_id").replace(" ", "").upper()
    errors.add("member_id", v.check_member_id(member_id))
    first, last = text(form, "patient_first_name"), text(form, "patient_last_name")
    errors.add("patient_first_name", None if first else "Enter the patient's first name.")
    errors.add("patient_last_name", None if last else "Enter the patient's last name.")
    raw = text(form, "date_of_birth")
    dob = parse(raw) if raw else None
    errors.add("date_of_birth", v.check_dob(dob, today, raw))
    return member_id, first, last, dob


def read_diagnoses(form: dict[str, str], errors: v.FieldErrors, slots: str = DX_SLOTS) -> tuple[str, ...]:
    codes = [text(form, f"diagnosis_{s}").upper() for s in slots]
    for slot, code in zip(slots, codes, strict=True):
        if code:
            errors.add(f"diagnosis_{slot}", v.check_icd10(code, billable=True))
    if not any(codes):
        errors.add(f"diagnosis_{slots[0]}", "Enter at least one diagnosis code.")
    elif not codes[0]:
        errors.add(f"diagnosis_{slots[0]}", "Enter the primary diagnosis first.")
    return tuple(c for c in codes if c)


def parse_inquiry(
    form: dict[str, str], parse: DateParser, today: date, *, npi_default: str = ""
) -> Inquiry | v.FieldErrors:
    errors = v.FieldErrors()
    member_id, first, last, dob = read_patient(form, errors, parse, today)
    raw_dos = text(form, "service_date")
    service_date = parse(raw_dos) if raw_dos else today
    if service_date is None:
        errors.add("service_date", "Enter the date of service as a real date.")
    npi = text(form, "provider_npi") or npi_default
    errors.add("provider_npi", v.check_npi(npi, "provider NPI"))
    service_type = text(form, "service_type") or "30"
    payer_id = text(form, "payer_id")
    if "payer_id" in form and not payer_id:
        errors.add("payer", "Select a payer from the list.")
    if errors or dob is None or service_date is None:
        return errors
    return Inquiry(member_id, first, last, dob, service_date, service_type, npi, payer_id)


def read_auth_patient(
    form: dict[str, str], errors: v.FieldErrors, parse: DateParser, today: date
) -> dict[str, Any]:
    """Step 1 of an auth request: patient and providers."""
    member_id, first, last, dob = read_patient(form, errors, parse, today)
    requesting, servicing = text(form, "requesting_npi"), text(form, "servicing_npi")
    errors.add("requesting_npi", v.check_npi(requesting, "requesting provider NPI"))
    errors.add("servicing_npi", v.check_npi(servicing, "servicing provider NPI"))
    return {
        "member_id": member_id,
        "first": first,
        "last": last,
        "dob": dob,
        "req": requesting,
        "srv": servicing,
    }


def read_auth_service(form: dict[str, str], errors: v.FieldErrors, parse: DateParser) -> dict[str, Any]:
    """Step 2 of an auth request: diagnoses, procedures, dates, urgency, place of service."""
    diagnoses = read_diagnoses(form, errors, "AB")
    procedures = []
    for i in range(3):
        code = text(form, f"proc_{i}_code").upper()
        units = text(form, f"proc_{i}_units")
        if i and not code and not units:
            continue
        errors.add(f"proc_{i}_code", v.check_procedure(code))
        errors.add(f"proc_{i}_units", v.check_units(units))
        unit_type = text(form, f"proc_{i}_unit_type") or "units"
        if code and units.isdigit() and int(units) > 0:
            procedures.append(Procedure(code, int(units), unit_type))
    start = read_date(form, "service_from", parse, errors, "service start date")
    end = read_date(form, "service_to", parse, errors, "service end date")
    if start and end and end < start:
        errors.add("service_to", "The service end date must be on or after the start date.")
    urgency = text(form, "urgency")
    errors.add("urgency", None if urgency in ("standard", "expedited") else "Choose standard or expedited.")
    pos = text(form, "place_of_service")
    errors.add("place_of_service", v.check_place_of_service(pos))
    return {"dx": diagnoses, "procs": procedures, "from": start, "to": end, "urgency": urgency, "pos": pos}


def build_auth(patient: dict[str, Any], service: dict[str, Any], notes: str, payer_id: str = "") -> AuthForm:
    return AuthForm(
        member_id=patient["member_id"],
        first_name=patient["first"],
        last_name=patient["last"],
        date_of_birth=patient["dob"],
        requesting_npi=patient["req"],
        servicing_npi=patient["srv"],
        diagnosis_codes=service["dx"],
        procedures=tuple(service["procs"]),
        service_from=service["from"],
        service_to=service["to"],
        urgency=service["urgency"],
        place_of_service=service["pos"],
        clinical_notes=notes,
        payer_id=payer_id,
    )


def parse_appeal(form: dict[str, str], parse: DateParser, today: date) -> AppealForm | v.FieldErrors:
    errors = v.FieldErrors()
    claim_number = text(form, "claim_number").replace(" ", "").upper()
    errors.add("claim_number", None if claim_number else "Enter the claim number.")
    member_id, first, last, dob = read_patient(form, errors, parse, today)
    category = text(form, "reason_category")
    errors.add("reason_category", None if category in v.APPEAL_REASONS else "Select a reason.")
    reason = text(form, "reason_text")
    errors.add("reason_text", None if len(reason) >= 10 else "Explain the reason in at least 10 characters.")
    contact, phone = text(form, "contact_name"), text(form, "contact_phone")
    errors.add("contact_name", None if contact else "Enter a contact name.")
    digits = "".join(ch for ch in phone if ch.isdigit())
    errors.add("contact_phone", None if len(digits) == 10 else "Enter a 10-digit phone number.")
    if errors or dob is None:
        return errors
    return AppealForm(claim_number, member_id, first, last, dob, category, reason, contact, phone)
