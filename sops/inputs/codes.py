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
        elif item.isalpha() and all(letter in POINTER_LETTERS for letter in item):
            pointers.extend(item)
        else:
            raise ValueError(f"{shorten(item, 12)} is not a diagnosis pointer: use letters A to L")
    if not pointers:
        raise ValueError("at least one diagnosis pointer is needed")
    if len(pointers) > MAX_POINTERS:
        raise ValueError(f"{len(pointers)} pointers given; a line points to at most {MAX_POINTERS} diagnoses")
    if len(set(pointers)) != len(pointers):
        raise ValueError("a diagnosis pointer is repeated")
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
