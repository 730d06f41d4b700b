"""Identifier and value readers (DOMAIN.md §3), each with good and bad values."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

import pytest

from sops.inputs import codes
from sops.inputs.values import parse_date, parse_money, parse_units, text


@pytest.mark.parametrize(
    ("check", "given", "expected"),
    [
        (codes.npi, "1234567893", "1234567893"),
        (codes.npi, "2000000002", "2000000002"),
        (codes.npi, "2000000010", "2000000010"),
        (codes.npi, "2123456784", "2123456784"),
        (codes.npi, "2999999990", "2999999990"),
        (codes.npi, 1234567893, "1234567893"),
        (codes.ein, "12-3456789", "123456789"),
        (codes.ein, "123456789", "123456789"),
        (
            partial(codes.diagnosis_codes, billable=True),
            "E11.9, I10, M54.50, S52.001A",
            ["E11.9", "I10", "M54.50", "S52.001A"],
        ),
        (partial(codes.diagnosis_codes, billable=True), ["e119", "i10"], ["E11.9", "I10"]),
        (partial(codes.diagnosis_codes, billable=False), "E11, M54.5", ["E11", "M54.5"]),
        (codes.procedure_code, "99213", "99213"),
        (codes.procedure_code, "1234f", "1234F"),
        (codes.procedure_code, "0042T", "0042T"),
        (codes.procedure_code, "J1100", "J1100"),
        (codes.modifiers, "25 59", ["25", "59"]),
        (codes.modifiers, "lt,rt,GP,59", ["LT", "RT", "GP", "59"]),
        (codes.modifiers, [], []),
        (codes.diagnosis_pointers, "AB", ["A", "B"]),
        (codes.diagnosis_pointers, "a, c", ["A", "C"]),
        (codes.diagnosis_pointers, "1,2", ["A", "B"]),
        (codes.place_of_service, "11", "11"),
        (codes.place_of_service, "2", "02"),
        (codes.place_of_service, 10, "10"),
        (codes.member_id, " 300 059 049 ", "300059049"),
        (codes.member_id, "xyz-123456", "XYZ123456"),
        (codes.medicare_id, "1EG4TE5MK73", "1EG4TE5MK73"),
        (codes.service_type, "30", "30"),
        (codes.service_type, "mh", "MH"),
        (codes.phone, "(555) 201-0100", "555-201-0100"),
        (codes.phone, "+1 555 201 0100", "555-201-0100"),
    ],
)
def test_good_values_are_normalised(check: Callable[[Any], Any], given: Any, expected: Any) -> None:
    assert check(given) == expected


@pytest.mark.parametrize(
    ("check", "given", "words"),
    [
        (codes.npi, "1234567890", "check digit"),
        (codes.npi, "3234567893", "starting with 1 or 2"),
        (codes.npi, "123456789", "10 digits"),
        (codes.ein, "07-1234567", "no EIN starts with 07"),
        (codes.ein, "96-1234567", "no EIN starts with 96"),
        (codes.ein, "12-345678", "9-digit"),
        (partial(codes.diagnosis_codes, billable=True), "E11", "E11 is a category"),
        (partial(codes.diagnosis_codes, billable=True), "M54.5", "M54.5 is a category"),
        (partial(codes.diagnosis_codes, billable=True), "E11.90", "not in the ICD-10-CM code set"),
        (partial(codes.diagnosis_codes, billable=True), "12345", "not an ICD-10-CM code"),
        (partial(codes.diagnosis_codes, billable=True), "E11.9, E119", "listed twice"),
        (partial(codes.diagnosis_codes, billable=True), ["I10"] * 13, "at most 12"),
        (partial(codes.diagnosis_codes, billable=True), "", "at least one"),
        (codes.procedure_code, "9921", "not a CPT or HCPCS"),
        (codes.procedure_code, "D1100", "not a CPT or HCPCS"),
        (codes.procedure_code, "99213-25", "not a CPT or HCPCS"),
        (codes.modifiers, "25 25", "once"),
        (codes.modifiers, "25 59 76 77 91", "at most 4"),
        (codes.modifiers, "255", "2 letters or digits"),
        (codes.diagnosis_pointers, "M", "letters A to L"),
        (codes.diagnosis_pointers, "AA", "once"),
        (codes.diagnosis_pointers, "ABCDE", "at most 4"),
        (codes.place_of_service, "30", "not a place-of-service code"),
        (codes.place_of_service, "office", "not a place-of-service code"),
        (codes.member_id, "A", "2-80 letters and digits"),
        (codes.member_id, "ABC$123", "2-80 letters and digits"),
        (codes.medicare_id, "1SG4TE5MK73", "Medicare Beneficiary Identifier"),
        (codes.medicare_id, "1EG4TE5MK7", "Medicare Beneficiary Identifier"),
        (codes.service_type, "300", "service type code"),
        (codes.phone, "555-0100", "10-digit"),
    ],
)
def test_bad_values_say_why(check: Callable[[Any], Any], given: Any, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        check(given)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2025-03-20", date(2025, 3, 20)),
        ("2025-3-5", date(2025, 3, 5)),
        ("03/20/2025", date(2025, 3, 20)),
        ("3/5/2025", date(2025, 3, 5)),
        ("03-20-2025", date(2025, 3, 20)),
        ("20250320", date(2025, 3, 20)),
    ],
)
def test_dates_iso_and_us(given: str, expected: date) -> None:
    assert parse_date(given) == expected


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ("2025-02-30", "not a real calendar date"),
        ("13/01/2025", "not a real calendar date"),
        ("03/20/25", "two-digit year"),
        ("March 20", "use YYYY-MM-DD or MM/DD/YYYY"),
        ("2025-03-20T10:00:00Z", "use YYYY-MM-DD"),
    ],
)
def test_bad_dates(given: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_date(given)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("125", "125.00"),
        ("125.5", "125.50"),
        ("$1,250.00", "1250.00"),
        ("$ 99.99", "99.99"),
        (12.5, "12.50"),
        (7, "7.00"),
    ],
)
def test_money(given: Any, expected: str) -> None:
    assert parse_money(given) == Decimal(expected)


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ("0", "more than zero"),
        ("-5", "not an amount"),
        ("12,50", "not an amount"),
        ("1.005", "not an amount"),
        (0.001, "fractions of a cent"),
        (1e300, "larger than any charge"),
        (float("nan"), "amount in dollars"),
        (True, "amount in dollars"),
        ("abc", "not an amount"),
    ],
)
def test_bad_money(given: Any, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_money(given)


@pytest.mark.parametrize(("given", "expected"), [("1", 1), ("2.0", 2), (3, 3), (4.0, 4)])
def test_units(given: Any, expected: int) -> None:
    assert parse_units(given) == expected


@pytest.mark.parametrize(
    ("given", "words"), [("0", "at least 1"), ("1.5", "whole number"), ("10000", "at most")]
)
def test_bad_units(given: Any, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_units(given)


@pytest.mark.parametrize(
    ("given", "words"),
    [
        (["a", "b"], "more than once"),
        ({"a": 1}, "single value"),
        ("x" * 201, "too long"),
        ("bell\x07", "cannot be printed"),
        ("zero\u200bwidth", "cannot be printed"),
        (None, "must be text"),
    ],
)
def test_text_refuses_lists_junk_and_huge_values(given: Any, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        text(given)
