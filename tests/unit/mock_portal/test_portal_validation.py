"""Front-end field checks (DOMAIN.md §3) and the fixtures' own validity."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from mock_portal import validation as v
from mock_portal.seed import DEFAULT_FIXTURES, load_seed

TODAY = date(2026, 6, 15)


@pytest.mark.parametrize("npi", ["2000000002", "2000000010", "2123456784", "2999999990", "1234567893"])
def test_valid_npis_pass(npi: str) -> None:
    assert v.check_npi(npi) is None


@pytest.mark.parametrize(
    ("npi", "fragment"),
    [
        ("1234567890", "check digit"),
        ("3000000002", "starting with 1 or 2"),
        ("20000", "10 digits"),
        ("", "Enter"),
    ],
)
def test_invalid_npis_fail(npi: str, fragment: str) -> None:
    message = v.check_npi(npi)
    assert message is not None and fragment in message


@pytest.mark.parametrize(
    ("ein", "ok"), [("12-3456789", True), ("07-1234567", False), ("1234", False), ("", False)]
)
def test_ein_prefixes(ein: str, ok: bool) -> None:
    assert (v.check_ein(ein) is None) is ok


@pytest.mark.parametrize(
    ("code", "ok"), [("E11.9", True), ("I10", True), ("M54.50", True), ("S52.001A", True)]
)
def test_billable_icd10(code: str, ok: bool) -> None:
    assert (v.check_icd10(code, billable=True) is None) is ok


@pytest.mark.parametrize(
    ("code", "fragment"), [("E11", "not billable"), ("M54.5", "not billable"), ("XYZ", "not a valid")]
)
def test_non_billable_or_invalid_icd10(code: str, fragment: str) -> None:
    assert fragment in (v.check_icd10(code, billable=True) or "")


@pytest.mark.parametrize(
    ("code", "ok"), [("99213", True), ("0001F", True), ("0042T", True), ("J1100", True), ("9921", False)]
)
def test_procedure_codes(code: str, ok: bool) -> None:
    assert (v.check_procedure(code) is None) is ok


def test_modifiers_limit_and_repeats() -> None:
    assert v.check_modifiers(["25", "59"]) is None
    assert "At most 4" in (v.check_modifiers(["25", "59", "LT", "RT", "76"]) or "")
    assert "repeat" in (v.check_modifiers(["25", "25"]) or "")


def test_pointers_must_name_filled_slots() -> None:
    assert v.check_pointers("AB", 2) is None
    assert "C" in (v.check_pointers("AC", 2) or "")


def test_service_dates_future_and_timely_filing() -> None:
    assert v.check_service_date(date(2026, 6, 1), TODAY, "x", 90) is None
    assert "future" in (v.check_service_date(date(2026, 6, 16), TODAY, "x", 90) or "")
    assert "timely filing" in (v.check_service_date(date(2026, 1, 1), TODAY, "x", 90) or "")


def test_dates_parse_in_each_payer_format() -> None:
    assert v.parse_us_date("04/12/1980") == date(1980, 4, 12)
    assert v.parse_us_date("1980-04-12") is None
    assert v.parse_iso_date("1980-04-12") == date(1980, 4, 12)


def test_fixture_providers_have_valid_test_npis_and_eins() -> None:
    seed = load_seed(DEFAULT_FIXTURES, datetime(2026, 6, 15, tzinfo=UTC))
    for org in seed.organizations:
        assert v.check_ein(org.tax_id) is None
        for provider in org.providers:
            assert provider.npi.startswith("2")
            assert v.check_npi(provider.npi) is None
