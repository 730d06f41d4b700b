"""Front-end field checks a payer portal runs before accepting a form (DOMAIN.md §3).

Each check returns an error message in the payer's words, or None when the value is fine.
`FieldErrors` collects them in form order for the error summary and the per-field messages.
"""

from __future__ import annotations

import importlib
import re
import threading
import warnings
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from types import ModuleType

BAD_EIN_PREFIXES = {
    "00",
    "07",
    "08",
    "09",
    "17",
    "18",
    "19",
    "28",
    "29",
    "49",
    "69",
    "70",
    "78",
    "79",
    "89",
    "96",
    "97",
}
PLACES_OF_SERVICE = {
    "02": "Telehealth other than in patient's home",
    "10": "Telehealth in patient's home",
    "11": "Office",
    "12": "Home",
    "19": "Off campus outpatient hospital",
    "20": "Urgent care facility",
    "21": "Inpatient hospital",
    "22": "On campus outpatient hospital",
    "23": "Emergency room - hospital",
    "24": "Ambulatory surgical center",
    "31": "Skilled nursing facility",
    "32": "Nursing facility",
    "49": "Independent clinic",
    "81": "Independent laboratory",
}
APPEAL_REASONS = {
    "corrected_coding": "Corrected coding",
    "medical_necessity": "Medical necessity",
    "timely_filing": "Proof of timely filing",
    "bundling": "Bundling / global period",
    "other": "Other",
}
_ICD = re.compile(r"^[A-TV-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?$")
_PROC = re.compile(r"^(\d{5}|\d{4}[FT]|[A-V]\d{4})$")
_MOD = re.compile(r"^[0-9A-Z]{2}$")
_MEMBER = re.compile(r"^[0-9A-Za-z]{2,80}$")


_icd_module: ModuleType | None = None
_icd_lock = threading.Lock()


def _icd() -> ModuleType:
    """simple_icd_10_cm, loaded on first use: its import parses the code set (about 2 s) and emits
    a DeprecationWarning from importlib.resources (its code, not ours), silenced here once."""
    global _icd_module
    with _icd_lock:
        if _icd_module is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                _icd_module = importlib.import_module("simple_icd_10_cm")
        return _icd_module


def load_code_set() -> None:
    """Load the ICD-10 code set now, so that no claim waits for it (the app does this at start-up)."""
    _icd()


class FieldErrors:
    """Errors keyed by field name, kept in the order they were found."""

    def __init__(self) -> None:
        self._errors: dict[str, str] = {}

    def add(self, field: str, message: str | None) -> None:
        if message and field not in self._errors:
            self._errors[field] = message

    def items(self) -> list[tuple[str, str]]:
        return list(self._errors.items())

    def get(self, field: str) -> str | None:
        return self._errors.get(field)

    def __bool__(self) -> bool:
        return bool(self._errors)

    def __contains__(self, field: object) -> bool:
        return field in self._errors


def npi_luhn_ok(npi: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed("80840" + npi)):
        digit = int(ch)
        if i % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def check_npi(value: str, label: str = "NPI") -> str | None:
    if not value:
        return f"Enter the {label}."
    if not (len(value) == 10 and value.isdigit() and value[0] in "12"):
        return f"{label} must be 10 digits starting with 1 or 2."
    if not npi_luhn_ok(value):
        return f"{label} {value} is not a valid NPI (check digit)."
    return None


def check_ein(value: str) -> str | None:
    digits = value.replace("-", "")
    if not digits:
        return "Enter the tax ID (EIN)."
    if not (len(digits) == 9 and digits.isdigit()):
        return "Tax ID must be 9 digits."
    if digits[:2] in BAD_EIN_PREFIXES:
        return f"Tax ID prefix {digits[:2]} is not a valid IRS prefix."
    return None


def check_member_id(value: str) -> str | None:
    if not value:
        return "Enter the member ID."
    if not _MEMBER.match(value):
        return "Member ID must be 2-80 letters or digits."
    return None


def check_icd10(code: str, *, billable: bool) -> str | None:
    if not _ICD.match(code):
        return f"{code} is not a valid ICD-10-CM code."
    dotted = code if "." in code or len(code) <= 3 else f"{code[:3]}.{code[3:]}"
    icd = _icd()
    if not icd.is_valid_item(dotted):
        return f"{code} is not a valid ICD-10-CM code."
    if billable and not icd.is_leaf(dotted):
        return f"{code} is not billable; use a more specific code."
    return None


def check_diagnoses(codes: Iterable[str]) -> str | None:
    filled = [c for c in codes if c]
    if not filled:
        return "Enter at least one diagnosis code."
    if len(filled) > 12:
        return "At most 12 diagnosis codes are allowed."
    for code in filled:
        problem = check_icd10(code, billable=True)
        if problem:
            return problem
    return None


def check_procedure(code: str) -> str | None:
    if not code:
        return "Enter a procedure code."
    if not _PROC.match(code):
        return f"{code} is not a valid CPT or HCPCS code."
    return None


def check_modifiers(mods: list[str]) -> str | None:
    if len(mods) > 4:
        return "At most 4 modifiers are allowed."
    for mod in mods:
        if not _MOD.match(mod):
            return f"Modifier {mod} must be 2 letters or digits."
    if len(set(mods)) != len(mods):
        return "A modifier may not repeat."
    return None


def check_place_of_service(value: str) -> str | None:
    if not value:
        return "Select a place of service."
    return None if value in PLACES_OF_SERVICE else f"Place of service {value} is not recognised."


def parse_us_date(value: str) -> date | None:
    try:
        return datetime.strptime(value.strip(), "%m/%d/%Y").date()
    except ValueError:
        return None


def parse_iso_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


def check_dob(value: date | None, today: date, raw: str) -> str | None:
    if not raw:
        return "Enter the date of birth."
    if value is None:
        return "Enter a real date of birth."
    if value >= today:
        return "Date of birth must be in the past."
    return None


def check_service_date(value: date | None, today: date, raw: str, timely_days: int) -> str | None:
    if not raw:
        return "Enter the date of service."
    if value is None:
        return "Enter a real date of service."
    if value > today:
        return "Date of service cannot be in the future."
    if (today - value).days > timely_days:
        return f"Date of service is outside the {timely_days}-day timely filing limit."
    return None


def parse_money(value: str) -> Decimal | None:
    try:
        amount = Decimal(value.replace("$", "").replace(",", "").strip())
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def check_charge(value: str) -> str | None:
    amount = parse_money(value)
    if not value:
        return "Enter the charge."
    if amount is None or amount <= 0:
        return "Charge must be an amount greater than 0."
    return None


def check_units(value: str) -> str | None:
    if not value:
        return "Enter the units."
    if not value.isdigit() or int(value) <= 0:
        return "Units must be a whole number greater than 0."
    return None


def check_pointers(pointers: str, filled_slots: int) -> str | None:
    letters = [p for p in pointers.replace(",", "").replace(" ", "").upper()]
    if not letters:
        return "Enter at least one diagnosis pointer."
    allowed = "ABCDEFGHIJKL"[:filled_slots]
    for letter in letters:
        if letter not in allowed:
            return f"Diagnosis pointer {letter} does not point to an entered diagnosis."
    return None
