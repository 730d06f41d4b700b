"""check_inputs: typed fields, account defaults, DOMAIN.md §3 rules and the clerk's note."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from sops.dataformat import merge_raw, parse_data
from sops.fields import TYPE_FIELDS, field_hints
from sops.inputs import MODELS, check_inputs
from sops.types import TaskType
from tests.unit.sops.support import SERENE_EXAMPLE, TODAY, fixture_text

CLAIM_DEFAULTS = {
    "billing_npi": "2000000010",
    "tax_id": "12-3456789",
    "payer": "Acme Health",
    "place_of_service": "11",
}
CLAIM = """member id: TST100200300
patient: Tess Fixture
dob: 1986-04-12
diagnosis: E11.9, I10
service line: cpt=99213, units=1, charge=125.00, pointers=AB, date=2026-11-02
"""


def claim(extra: str = "", **defaults: Any) -> Any:
    """The base claim with `extra`: more service lines are appended, other keys replace the base's."""
    if extra.startswith("service line"):
        raw = parse_data(CLAIM + extra)
    else:
        raw = merge_raw(parse_data(CLAIM), parse_data(extra))
    return check_inputs(TaskType.SUBMIT_CLAIM, raw, defaults={**CLAIM_DEFAULTS, **defaults}, today=TODAY)


@pytest.mark.parametrize("task_type", list(TaskType))
def test_fixture_inputs_are_complete_and_valid(task_type: TaskType) -> None:
    checked = check_inputs(task_type, parse_data(fixture_text(task_type)), today=TODAY)
    assert checked.problems == []
    assert checked.ok
    assert checked.note == ""
    assert checked.unrecognised == []
    json.dumps(checked.fields)  # JSON-serialisable


@pytest.mark.parametrize("task_type", list(TaskType))
def test_models_and_field_table_agree(task_type: TaskType) -> None:
    model = MODELS[task_type]
    assert set(model.model_fields) == {name for name, _ in TYPE_FIELDS[task_type]}
    required = {name for name, info in model.model_fields.items() if info.is_required()}
    assert required <= {hint.name for hint in field_hints(task_type) if hint.required}


def test_serene_claim_example_waits_for_diagnoses_and_service_lines() -> None:
    checked = check_inputs(TaskType.SUBMIT_CLAIM, parse_data(SERENE_EXAMPLE), today=date(2025, 3, 25))
    assert not checked.ok
    missing = {problem.field for problem in checked.problems if problem.missing}
    assert missing == {"payer", "billing_npi", "tax_id", "diagnosis_codes", "service_lines"}
    assert checked.note == "Missing: payer, billing NPI, tax ID (EIN), diagnosis codes, service lines."
    assert checked.fields["member_id"] == "300059049"  # raw values kept for a later merge


def test_serene_example_with_account_defaults_only_lacks_clinical_data() -> None:
    checked = check_inputs(
        TaskType.SUBMIT_CLAIM, parse_data(SERENE_EXAMPLE), defaults=CLAIM_DEFAULTS, today=date(2025, 3, 25)
    )
    assert checked.note == "Missing: diagnosis codes, service lines."


def test_typed_fields_are_normalised() -> None:
    checked = claim("service line: hcpcs=j1100, charge=$1,000, pointers=2, mod=rt lt, dos=11/02/2026\n")
    assert checked.ok, checked.note
    fields = checked.fields
    assert fields["date_of_birth"] == "1986-04-12"
    assert fields["tax_id"] == "123456789"
    assert fields["total_charge"] == "1125.00"  # computed from the lines
    line = fields["service_lines"][1]
    assert line == {
        "procedure_code": "J1100",
        "modifiers": ["RT", "LT"],
        "units": 1,
        "charge": "1000.00",
        "diagnosis_pointers": ["B"],
        "service_date": "2026-11-02",
        "place_of_service": "11",  # from the account default
    }


def test_line_date_and_place_fall_back_to_the_task_level_ones() -> None:
    checked = claim("service line: cpt=99214, charge=10\nservice date: 11/03/2026\nplace of service: 22\n")
    assert checked.ok, checked.note
    first, second = checked.fields["service_lines"]
    assert (first["service_date"], first["place_of_service"]) == ("2026-11-02", "22")
    assert (second["service_date"], second["place_of_service"]) == ("2026-11-03", "22")
    assert second["units"] == 1
    assert second["diagnosis_pointers"] == ["A"]


def test_a_single_line_may_be_given_at_the_top_level() -> None:
    text = (
        "member: TST1\npatient: Tess Fixture\ndob: 1986-04-12\n"
        "dx: E11.9\ncpt: 99213\ncharge: 80\nDOS: 11/02/2026"
    )
    checked = check_inputs(TaskType.SUBMIT_CLAIM, parse_data(text), defaults=CLAIM_DEFAULTS, today=TODAY)
    assert checked.ok, checked.note
    assert checked.fields["service_lines"][0]["procedure_code"] == "99213"


def test_task_values_win_over_account_defaults_and_synonyms_fill_gaps() -> None:
    checked = claim("billing npi: 2123456784\nNPI: 2999999990\n")
    assert checked.fields["billing_npi"] == "2123456784"
    assert checked.fields["rendering_npi"] == "2999999990"  # a claim's plain NPI is the rendering provider
    solo = check_inputs(
        TaskType.SUBMIT_CLAIM,
        parse_data(CLAIM + "NPI: 2999999990"),
        defaults={"tax_id": "12-3456789", "payer": "Acme", "place_of_service": "11"},
        today=TODAY,
    )
    assert solo.fields["billing_npi"] == "2999999990"


def test_eligibility_service_date_defaults_to_today_and_type_to_30() -> None:
    text = "member: TST1\npatient: Tess Fixture\ndob: 1986-04-12\npayer: Acme"
    checked = check_inputs(TaskType.CHECK_ELIGIBILITY, parse_data(text), today=TODAY)
    assert checked.ok
    assert (checked.fields["service_date"], checked.fields["service_type"]) == ("2026-11-30", "30")


@pytest.mark.parametrize(
    ("extra", "field", "words"),
    [
        ("", None, None),
        ("total: 125.00\n", None, None),
        ("total: 100.00\n", "total_charge", "is not the sum of the service lines (125.00)"),
        (
            "service line: cpt=99214, charge=10, pointers=C, date=2026-11-02\n",
            "service_lines.1.diagnosis_pointers",
            "service line 2 diagnosis pointers C point past the 2 diagnosis code(s) given (A-B)",
        ),
        (
            "service line: cpt=99214, charge=0, date=2026-11-02\n",
            "service_lines.1.charge",
            "service line 2 charge must be more than zero",
        ),
        (
            "service line: cpt=99214, charge=5, units=0, date=2026-11-02\n",
            "service_lines.1.units",
            "service line 2 units must be at least 1",
        ),
        (
            "service line: cpt=99214, charge=5, date=2026-12-02\n",
            "service_lines.1.service_date",
            "2026-12-02 is in the future",
        ),
        (
            "service line: cpt=99214, charge=5, date=2025-11-02\n",
            "service_lines.1.service_date",
            "past the 365-day timely filing limit",
        ),
        (
            "service line: cpt=99214, charge=5, date=1980-01-01\n",
            "service_lines.1.service_date",
            "1980-01-01 is past the 365-day",
        ),
        ("resubmission code: 7\n", "original_claim_number", "needed to replace or void"),
        ("resubmission code: replacement\noriginal claim number: 2026110200123\n", None, None),
        ("billing npi: 1234567890\n", "billing_npi", "billing NPI 1234567890 fails the NPI check digit"),
        ("tax id: 07-1234567\n", "tax_id", "no EIN starts with 07"),
        ("diagnosis: E11\n", "diagnosis_codes", "E11 is a category, not a billable code"),
        ("dob: 2027-01-01\n", "date_of_birth", "date of birth 2027-01-01 is not in the past"),
        ("member: OTHER1\nmember id: OTHER2\n", "member_id", "given more than once with different values"),
        ("place of service: 30\n", "service_lines.0.place_of_service", "not a place-of-service code"),
    ],
)
def test_claim_rules(extra: str, field: str | None, words: str | None) -> None:
    checked = claim(extra)
    if field is None:
        assert checked.ok, checked.note
        return
    assert field in {problem.field for problem in checked.problems}, checked.problems
    assert words is not None
    assert words in checked.note


def test_timely_filing_limit_comes_from_account_defaults() -> None:
    assert claim(timely_filing_days=90).ok
    checked = claim(timely_filing_days="20")
    assert "past the 20-day timely filing limit" in checked.note
    assert claim(timely_filing_days="soon").ok  # an unreadable setting falls back to 365 days


def test_the_note_names_every_missing_and_invalid_field() -> None:
    text = "member: X\ndob: 13/45/1990\npatient: Doe\nbilling npi: 1234567890\nmembr id: 123"
    checked = check_inputs(TaskType.SUBMIT_CLAIM, parse_data(text), today=TODAY)
    assert checked.note == (
        "Missing: patient first name, payer, tax ID (EIN), diagnosis codes, service lines. "
        "Invalid: member ID X is not a member ID: use the 2-80 letters and digits on the card; "
        "date of birth 13/45/1990 is not a real calendar date; "
        "billing NPI 1234567890 fails the NPI check digit (a typo?). "
        "Not recognised (kept as sent): membr id."
    )
    assert checked.fields["membr_id"] == "123"


def test_known_fields_of_other_types_are_kept_but_not_called_unrecognised() -> None:
    checked = claim("urgency: expedited\nmembr id: 123\ndx: E11")
    assert checked.unrecognised == ["membr_id"]
    assert checked.fields["urgency"] == "expedited"


def test_medicare_members_need_an_mbi() -> None:
    base = "patient: Tess Fixture\ndob: 1950-04-12\npayer: Medicare Part B\n"
    good = check_inputs(TaskType.CHECK_ELIGIBILITY, parse_data(base + "member: 1EG4-TE5-MK73"), today=TODAY)
    assert good.ok
    assert good.fields["member_id"] == "1EG4TE5MK73"
    bad = check_inputs(TaskType.CHECK_ELIGIBILITY, parse_data(base + "member: 1SG4TE5MK73"), today=TODAY)
    assert "Medicare Beneficiary Identifier" in bad.note
    advantage = check_inputs(
        TaskType.CHECK_ELIGIBILITY,
        parse_data(base.replace("Part B", "Advantage") + "member: ZX1234"),
        today=TODAY,
    )
    assert advantage.ok


def prior_auth(extra: str) -> Any:
    raw = merge_raw(parse_data(fixture_text(TaskType.SUBMIT_PRIOR_AUTHORIZATION)), parse_data(extra))
    return check_inputs(TaskType.SUBMIT_PRIOR_AUTHORIZATION, raw, today=TODAY)


def test_prior_auth_dates_may_be_future_but_in_order() -> None:
    assert prior_auth("service from: 2027-06-01\nservice to: 2027-06-30").ok
    assert "service end date is before the service start date" in prior_auth("service to: 2026-12-01").note
    assert "too far in the future" in prior_auth("service from: 2030-01-01\nservice to: 2030-02-01").note


def test_prior_auth_diagnoses_need_not_be_billable_and_urgency_has_aliases() -> None:
    checked = prior_auth("diagnosis_codes: M54.5\nurgency: URGENT")
    assert checked.ok, checked.note
    assert checked.fields["urgency"] == "expedited"
    assert "is not a known urgency" in prior_auth("urgency: whenever").note


def test_prior_auth_service_date_and_service_lines_are_accepted_as_synonyms() -> None:
    text = (
        "member: TST1\npatient: Tess Fixture\ndob: 1986-04-12\npayer: Acme\nnpi: 2000000002\n"
        "dx: M54.50\nservice line: cpt=97110, units=6\ndate of service: 2026-12-15\npos: 11"
    )
    checked = check_inputs(TaskType.SUBMIT_PRIOR_AUTHORIZATION, parse_data(text), today=TODAY)
    assert checked.ok, checked.note
    assert checked.fields["servicing_npi"] == checked.fields["requesting_npi"] == "2000000002"
    assert checked.fields["service_from"] == checked.fields["service_to"] == "2026-12-15"
    assert checked.fields["procedures"][0]["unit_type"] == "units"


def test_appeal_reason_categories_and_phone() -> None:
    raw = parse_data(fixture_text(TaskType.SUBMIT_APPEAL))
    checked = check_inputs(
        TaskType.SUBMIT_APPEAL, merge_raw(raw, parse_data("category: Timely filing proof")), today=TODAY
    )
    assert checked.fields["reason_category"] == "timely_filing"
    bad = check_inputs(
        TaskType.SUBMIT_APPEAL, merge_raw(raw, parse_data("phone: 12\ncategory: vibes")), today=TODAY
    )
    assert {problem.field for problem in bad.problems} == {"reason_category", "contact_phone"}


def test_extra_required_fields_from_a_sop() -> None:
    checked = check_inputs(
        TaskType.SUBMIT_CLAIM,
        parse_data(CLAIM),
        defaults=CLAIM_DEFAULTS,
        today=TODAY,
        required=["prior_auth_number"],
    )
    assert checked.note == "Missing: prior authorization number."


def test_json_data_with_lists() -> None:
    data = {
        "member": "TST1",
        "patient": "Tess Fixture",
        "DOB": "04/12/1986",
        "diagnoses": ["E11.9", "I10"],
        "service_lines": [{"cpt": "99213", "charge": 125, "pointers": ["A", "B"], "dos": "2026-11-02"}],
    }
    checked = check_inputs(
        TaskType.SUBMIT_CLAIM, parse_data(json.dumps(data)), defaults=CLAIM_DEFAULTS, today=TODAY
    )
    assert checked.ok, checked.note
    assert checked.fields["service_lines"][0]["charge"] == "125.00"


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        ({"member_id": "A" * 1_000_000}, "member_id", "too long"),
        ({"patient_first_name": "{{ config }}"}, "patient_first_name", "is not a name"),
        ({"patient_last_name": "<script>alert(1)</script>"}, "patient_last_name", "is not a name"),
        ({"payer": "Acme\x00Health"}, "payer", "cannot be printed"),
        ({"service_lines": [42]}, "service_lines.0", "key=value pairs"),
        ({"service_lines": "cpt=99213"}, "service_lines", "must be a list"),
        ({"diagnosis_codes": [{"x": 1}]}, "diagnosis_codes", "list of codes"),
        ({"date_of_birth": 1990.5}, "date_of_birth", "must be text"),
    ],
)
def test_hostile_raw_values_become_problems_not_crashes(raw: dict[str, Any], field: str, words: str) -> None:
    checked = check_inputs(TaskType.SUBMIT_CLAIM, raw, today=TODAY)
    problem = next(problem for problem in checked.problems if problem.field == field)
    assert words in problem.message
    assert len(checked.note) < 2000


def test_field_hints_list_every_field_with_aliases_and_examples() -> None:
    hints = {hint.name: hint for hint in field_hints(TaskType.SUBMIT_CLAIM)}
    assert hints["date_of_birth"].required
    assert "DOB" in hints["date_of_birth"].aliases
    assert not hints["rendering_npi"].required
    assert all(hint.example and hint.label for hint in hints.values())
