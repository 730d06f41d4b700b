"""Inputs of the status checks: the payer's number, or the member and dates, and what is missing."""

from __future__ import annotations

import pytest

from sops.dataformat import parse_data
from sops.inputs import InputCheck, check_inputs
from sops.types import TaskType
from tests.unit.sops.support import TODAY

MEMBER = "member: TST100200300\npatient: Tess Fixture\nDOB: 1986-04-12\npayer: Acme Health\n"


def claim_status(text: str) -> InputCheck:
    return check_inputs(TaskType.CHECK_CLAIM_STATUS, parse_data(text), today=TODAY)


def auth_status(text: str) -> InputCheck:
    return check_inputs(TaskType.CHECK_AUTHORIZATION_STATUS, parse_data(text), today=TODAY)


@pytest.mark.parametrize("key", ["claim number", "Claim #", "ICN", "payer claim number", "claim_number"])
def test_a_claim_number_alone_is_enough(key: str) -> None:
    checked = claim_status(f"payer: Acme Health\n{key}: 2026110200123\n")
    assert checked.ok, checked.note
    assert checked.fields == {"payer": "Acme Health", "claim_number": "2026110200123"}


def test_an_appeal_still_takes_its_claim_from_claim_number() -> None:
    text = (
        MEMBER + "claim number: 2026110200123\nreason category: other\nreason: see notes\n"
        "contact: Sam Placeholder\nphone: 555-201-0100\n"
    )
    checked = check_inputs(TaskType.SUBMIT_APPEAL, parse_data(text), today=TODAY)
    assert checked.ok, checked.note
    assert checked.fields["original_claim_number"] == "2026110200123"
    assert "claim_number" not in checked.fields


def test_member_and_one_date_of_service_find_a_claim_over_that_day() -> None:
    checked = claim_status(MEMBER + "date of service: 11/02/2026\nNPI: 2000000010\n")
    assert checked.ok, checked.note
    assert checked.fields["service_date_from"] == "2026-11-02"
    assert checked.fields["service_date_to"] == "2026-11-02"
    assert checked.fields["billing_npi"] == "2000000010"


def test_nothing_to_search_by_names_both_ways() -> None:
    checked = claim_status("payer: Acme Health\n")
    assert checked.note == (
        "Missing: claim number (or, to search by member instead: member ID, patient first name, "
        "patient last name, date of birth, first date of service)."
    )
    assert [problem.field for problem in checked.problems] == ["claim_number"]


def test_a_partial_member_search_names_what_it_lacks() -> None:
    checked = claim_status("payer: Acme Health\nmember id: TST100200300\npatient: Tess Fixture\n")
    assert [problem.field for problem in checked.problems] == ["date_of_birth", "service_date_from"]
    assert checked.note == (
        "Missing: date of birth (to search by member; or give the claim number), first date of service "
        "(to search by member; or give the claim number)."
    )


@pytest.mark.parametrize(
    ("extra", "field", "words"),
    [
        ("date of service: 2099-01-01\n", "service_date_from", "is in the future"),
        ("DOS from: 2026-11-02\nDOS to: 2026-11-01\n", "service_date_to", "before the first date of service"),
        ("date of service: 1980-01-01\n", "service_date_from", "too far in the past"),
        ("date of service: 2026-11-02\nbilling npi: 2000000011\n", "billing_npi", "check digit"),
    ],
)
def test_bad_claim_search_values_say_why(extra: str, field: str, words: str) -> None:
    checked = claim_status(MEMBER + extra)
    assert field in {problem.field for problem in checked.problems}, checked.problems
    assert words in checked.note


def test_a_payer_is_always_needed() -> None:
    checked = claim_status("claim number: 2026110200123\n")
    assert checked.note == "Missing: payer."


@pytest.mark.parametrize(
    ("key", "field"),
    [
        ("reference number", "reference_number"),
        ("case number", "reference_number"),
        ("certification number", "certification_number"),
        ("authorization number", "certification_number"),  # the claim form's prior auth number
    ],
)
def test_an_authorization_number_alone_is_enough(key: str, field: str) -> None:
    checked = auth_status(f"payer: Acme Health\n{key}: auth-77812\n")
    assert checked.ok, checked.note
    assert checked.fields == {"payer": "Acme Health", field: "AUTH-77812"}


def test_member_procedure_and_dates_find_an_authorization() -> None:
    checked = auth_status(MEMBER + "CPT: 97110\nfrom: 2026-12-15\nrequesting npi: 2000000002\n")
    assert checked.ok, checked.note
    assert (checked.fields["procedure_code"], checked.fields["service_to"]) == ("97110", "2026-12-15")


def test_an_authorization_search_names_what_it_lacks() -> None:
    assert auth_status("payer: Acme Health\n").note == (
        "Missing: reference number or certification number (or, to search by member instead: member ID, "
        "patient first name, patient last name, date of birth, procedure code, service start date)."
    )
    partial = auth_status(MEMBER + "from: 2026-12-15\n")
    assert [problem.field for problem in partial.problems] == ["procedure_code"]
    assert "procedure code (to search by member; or give the reference number or certification number)" in (
        partial.note
    )


@pytest.mark.parametrize(
    ("extra", "field", "words"),
    [
        ("CPT: 9711\nfrom: 2026-12-15\n", "procedure_code", "not a CPT or HCPCS code"),
        ("CPT: 97110\nfrom: 2026-12-15\nto: 2026-12-01\n", "service_to", "before the service start date"),
        ("CPT: 97110\nfrom: 2031-12-15\n", "service_from", "too far in the future"),
    ],
)
def test_bad_authorization_search_values_say_why(extra: str, field: str, words: str) -> None:
    checked = auth_status(MEMBER + extra)
    assert field in {problem.field for problem in checked.problems}, checked.problems
    assert words in checked.note


def test_a_prior_authorization_still_reads_service_date_from() -> None:
    text = (
        MEMBER + "requesting npi: 2000000002\nservicing npi: 2999999990\ndiagnosis: M54.50\n"
        "procedure: cpt=97110\nservice date from: 2026-12-15\nservice date to: 2027-01-15\nPOS: 11\n"
    )
    checked = check_inputs(TaskType.SUBMIT_PRIOR_AUTHORIZATION, parse_data(text), today=TODAY)
    assert checked.ok, checked.note
    assert (checked.fields["service_from"], checked.fields["service_to"]) == ("2026-12-15", "2027-01-15")
