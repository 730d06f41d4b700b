"""Checks of healthcare identifiers and code sets (DOMAIN.md §3), offline.

Each check takes a raw value and returns it normalised (upper case, punctuation the portals do
not want removed) or raises `ValueError` with a plain-words reason.
"""

from __future__ import annotations

import importlib
import re
import threading
import warnings
from types import ModuleType
from typing import Any

from stdnum import luhn

from sops.inputs.values import code_list, shorten, text

# CMS place-of-service code set (https://www.cms.gov/medicare/coding-billing/place-of-service-codes).
PLACES_OF_SERVICE = frozenset(
    f"{code:02d}"
    for code in (*range(1, 28), *range(31, 35), 41, 42, *range(49, 59), 60, 61, 62, 65, 66, 71, 72, 81, 99)
)
# EIN prefixes the IRS has never assigned (DOMAIN.md §3).
INVALID_EIN_PREFIXES = frozenset(
    f"{prefix:02d}" for prefix in (0, 7, 8, 9, 17, 18, 19, 28, 29, 49, 69, 70, 78, 79, 89, 96, 97)
)
MAX_DIAGNOSES = 12
MAX_MODIFIERS = 4
MAX_POINTERS = 4
POINTER_LETTERS = "ABCDEFGHIJKL"

_NPI = re.compile(r"^[12]\d{9}$")
_EIN = re.compile(r"^\d{2}-?\d{7}$")
_ICD10 = re.compile(r"^[A-Z]\d[0-9A-Z](?:\.?[0-9A-Z]{1,4})?$")
_PROCEDURE = re.compile(r"^(?:\d{5}|\d{4}[FT]|[ABCEGHJKLMPQRSTUV]\d{4})$")
_MODIFIER = re.compile(r"^[0-9A-Z]{2}$")
_MBI_LETTER = "ACDEFGHJKMNPQRTUVWXY"  # letters other than S L O I B Z
_MBI = re.compile(
    "^[1-9]{a}{an}[0-9]{a}{an}[0-9]{a}{a}[0-9][0-9]$".format(a=f"[{_MBI_LETTER}]", an=f"[0-9{_MBI_LETTER}]")
)
_MEMBER_ID = re.compile(r"^[0-9A-Z]{2,80}$")
_SERVICE_TYPE = re.compile(r"^[0-9A-Z]{1,2}$")
_PHONE_DIGITS = re.compile(r"\D")

_icd_module: ModuleType | None = None
_icd_lock = threading.Lock()


def _icd() -> ModuleType:
    """simple_icd_10_cm, loaded on first use: it parses the whole code set (about 2 s) at import.

    Its import also emits a DeprecationWarning from importlib.resources (its own code, not ours),
    which is silenced here, once, rather than in every caller's warning filters.
    """
    global _icd_module
    with _icd_lock:
        if _icd_module is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                _icd_module = importlib.import_module("simple_icd_10_cm")
        return _icd_module


def preload_code_set() -> None:
    """Load the ICD-10-CM code set now (about 2 s) rather than on the first claim checked."""
    _icd()


def npi(value: Any) -> str:
    """10 digits starting 1 or 2 whose Luhn check over `80840` + digits holds."""
    raw = text(value).replace(" ", "").replace("-", "")
    if not _NPI.match(raw):
        raise ValueError(f"{shorten(raw)} is not an NPI: it must be 10 digits starting with 1 or 2")
    if not luhn.is_valid("80840" + raw):
        raise ValueError(f"{raw} fails the NPI check digit (a typo?)")
    return raw


def ein(value: Any) -> str:
    """A 9-digit employer identification number, returned as digits only."""
    raw = text(value).replace(" ", "")
    if not _EIN.match(raw):
        raise ValueError(f"{shorten(raw)} is not a tax ID: use the 9-digit EIN, like 12-3456789")
    digits = raw.replace("-", "")
    if digits[:2] in INVALID_EIN_PREFIXES:
        raise ValueError(f"{raw} is not a valid EIN (no EIN starts with {digits[:2]})")
    return digits


def diagnosis_codes(value: Any, *, billable: bool) -> list[str]:
    """1 to 12 ICD-10-CM codes, dotted (`E119` -> `E11.9`); claims need billable (leaf) codes."""
    codes = code_list(value)
    if not codes:
        raise ValueError("at least one diagnosis code is needed")
    if len(codes) > MAX_DIAGNOSES:
        raise ValueError(f"has {len(codes)} codes; at most {MAX_DIAGNOSES} fit on a claim")
    result: list[str] = []
    reasons: list[str] = []
    for code in codes:
        dotted = code if "." in code or len(code) <= 3 else f"{code[:3]}.{code[3:]}"
        if not _ICD10.match(code):
            reasons.append(f"{shorten(code, 12)} is not an ICD-10-CM code")
        elif not _icd().is_valid_item(dotted):
            reasons.append(f"{dotted} is not in the ICD-10-CM code set")
        elif billable and not _icd().is_leaf(dotted):
            reasons.append(f"{dotted} is a category, not a billable code (it needs more characters)")
        elif dotted in result:
            reasons.append(f"{dotted} is listed twice")
        else:
            result.append(dotted)
    if reasons:
        raise ValueError(", and ".join(reasons))
    return result


def procedure_code(value: Any) -> str:
    """CPT (`99213`, Category II `1234F`, Category III `0042T`) or HCPCS Level II (`J1100`)."""
    code = text(value).upper().replace(" ", "")
    if not _PROCEDURE.match(code):
        raise ValueError(f"{shorten(code, 12)} is not a CPT or HCPCS code (5 digits, or a letter + 4 digits)")
    return code


def modifiers(value: Any) -> list[str]:
    """Up to four 2-character modifiers, no repeats."""
    codes = code_list(value)
    bad = [code for code in codes if not _MODIFIER.match(code)]
    if bad:
        raise ValueError(f"{shorten(', '.join(bad), 20)}: a modifier is 2 letters or digits, like 25 or LT")
    if len(codes) > MAX_MODIFIERS:
        raise ValueError(f"has {len(codes)} modifiers; at most {MAX_MODIFIERS}")
    if len(set(codes)) != len(codes):
        raise ValueError("repeat a modifier; each may appear once")
    return codes


def diagnosis_pointers(value: Any) -> list[str]:
    """Letters A-L naming diagnosis slots (`A`, `AB`, `A,B`, or numbers `1,2`), up to four."""
    raw = value if isinstance(value, list) else [value]
    pointers: list[str] = []
    for item in code_list(raw):
        if item.isdigit() and 1 <= int(item) <= len(POINTER_LETTERS):
            pointers.append(POINTER_LETTERS[int(item) - 1])
        elif item.isalpha() and all(letter in POINTER_LETTERS for letter in item):
            pointers.extend(item)
        else:
            raise ValueError(f"{shorten(item, 12)} is not a diagnosis pointer: use letters A to L")
    if not pointers:
        raise ValueError("at least one diagnosis pointer is needed")
    if len(pointers) > MAX_POINTERS:
        raise ValueError(f"has {len(pointers)} pointers; a line points to at most {MAX_POINTERS} diagnoses")
    if len(set(pointers)) != len(pointers):
        raise ValueError("repeat a pointer; each may appear once")
    return pointers


def place_of_service(value: Any) -> str:
    """A 2-digit code from the CMS place-of-service list (`11` office, `02`/`10` telehealth...)."""
    code = text(value).strip()
    code = code.zfill(2) if code.isdigit() and len(code) == 1 else code
    if code not in PLACES_OF_SERVICE:
        raise ValueError(
            f"{shorten(code, 12)} is not a place-of-service code (e.g. 11 office, 22 outpatient)"
        )
    return code


def member_id(value: Any) -> str:
    """2-80 letters and digits as printed on the card (spaces and dashes dropped, upper-cased)."""
    raw = re.sub(r"[\s-]", "", text(value)).upper()
    if not _MEMBER_ID.match(raw):
        raise ValueError(f"{shorten(raw)} is not a member ID: use the 2-80 letters and digits on the card")
    return raw


def medicare_id(value: str) -> str:
    """A Medicare Beneficiary Identifier: 11 characters like 1EG4TE5MK73."""
    if not _MBI.match(value):
        raise ValueError(
            f"{shorten(value)} is not a Medicare Beneficiary Identifier (11 characters, like 1EG4TE5MK73)"
        )
    return value


def service_type(value: Any) -> str:
    """An X12 service type code: 1-2 letters or digits (`30` health benefit plan coverage)."""
    code = text(value).upper()
    if not _SERVICE_TYPE.match(code):
        raise ValueError(f"{shorten(code, 12)} is not a service type code (e.g. 30, 98, MH)")
    return code


def phone(value: Any) -> str:
    """A US phone number, returned as 555-201-0100."""
    digits = _PHONE_DIGITS.sub("", text(value))
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) != 10 or digits[0] in "01":
        raise ValueError(f"{shorten(value)} is not a 10-digit US phone number")
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
