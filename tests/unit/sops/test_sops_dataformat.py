"""parse_data / merge_raw: the free-text and JSON data formats."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from sops.dataformat import MAX_DATA_CHARS, merge_raw, parse_data
from sops.errors import DataFormatError
from tests.unit.sops.support import SERENE_EXAMPLE


def test_serene_example_parses_to_canonical_fields() -> None:
    assert parse_data(SERENE_EXAMPLE) == {
        "member_id": "300059049",
        "patient_first_name": "Jane",
        "patient_last_name": "Doe",
        "date_of_birth": "1990-01-15",
        "service_date": "2025-03-20",
    }


@pytest.mark.parametrize(
    ("key", "canonical"),
    [
        ("DOB", "date_of_birth"),
        ("dob", "date_of_birth"),
        ("Date of Birth", "date_of_birth"),
        ("date-of-birth", "date_of_birth"),
        ("member", "member_id"),
        ("Member ID", "member_id"),
        ("Member ID #", "member_id"),
        ("subscriber id", "member_id"),
        ("NPI", "provider_npi"),
        ("TIN", "tax_id"),
        ("EIN", "tax_id"),
        ("POS", "place_of_service"),
        ("DOS", "service_date"),
        ("Billing NPI", "billing_npi"),
        ("insurance", "payer"),
        ("claim number", "claim_number"),
        ("original claim", "original_claim_number"),
        ("DOS from", "service_date_from"),
        ("phone", "contact_phone"),
    ],
)
def test_aliases_are_case_and_separator_insensitive(key: str, canonical: str) -> None:
    assert parse_data(f"{key}: X1")[canonical] == "X1"


@pytest.mark.parametrize(
    ("given", "first", "last"),
    [
        ("Jane Doe", "Jane", "Doe"),
        ("Doe, Jane", "Jane", "Doe"),
        ("Mary Ann Smith", "Mary Ann", "Smith"),
        ("John Smith Jr", "John", "Smith Jr"),
    ],
)
def test_patient_name_is_split(given: str, first: str, last: str) -> None:
    raw = parse_data(f"patient name: {given}")
    assert (raw["patient_first_name"], raw["patient_last_name"]) == (first, last)
    assert "patient_name" not in raw


def test_json_patient_object_with_first_and_last() -> None:
    raw = parse_data('{"patient": {"First Name": "Jane", "last": "Doe"}}')
    assert raw == {"patient_first_name": "Jane", "patient_last_name": "Doe"}


def test_explicit_first_and_last_names_win_over_the_full_name() -> None:
    raw = parse_data("first name: Janet\npatient: Jane Doe")
    assert raw["patient_first_name"] == "Janet"
    assert raw["patient_last_name"] == "Doe"


def test_a_single_name_becomes_the_last_name() -> None:
    assert parse_data("patient: Doe") == {"patient_last_name": "Doe"}


def test_diagnoses_comma_separated_and_repeated_keep_their_order() -> None:
    raw = parse_data("diagnosis: E11.9, I10\ndx: M54.50; Z00.00\ndiagnosis_codes: S52.001A")
    assert raw["diagnosis_codes"] == ["E11.9", "I10", "M54.50", "Z00.00", "S52.001A"]


def test_indexed_diagnosis_keys_are_ordered_by_index() -> None:
    raw = parse_data("diagnosis_2: I10\ndiagnosis 1: E11.9\nICD-10 3: M54.50")
    assert raw["diagnosis_codes"] == ["E11.9", "I10", "M54.50"]


def test_repeated_service_lines_with_key_value_pairs() -> None:
    raw = parse_data(
        "service line: cpt=99213, modifiers=25, units=1, charge=125.00, pointers=A, date=2025-03-20, pos=11\n"
        "Service Line: CPT = 97110, mod=GP, 59, qty=2, charge=$1,250.00, dx=A,B\n"
        "service line: 99214"
    )
    assert raw["service_lines"] == [
        {
            "procedure_code": "99213",
            "modifiers": "25",
            "units": "1",
            "charge": "125.00",
            "diagnosis_pointers": "A",
            "service_date": "2025-03-20",
            "place_of_service": "11",
        },
        {
            "procedure_code": "97110",
            "modifiers": "GP,59",
            "units": "2",
            "charge": "$1,250.00",
            "diagnosis_pointers": "A,B",
        },
        {"procedure_code": "99214"},
    ]


def test_indexed_service_line_keys() -> None:
    raw = parse_data(
        "service_line_2_cpt: 99214\nservice line 1 cpt: 99213\nservice_line_1_charge: 125\nline 2 charge: 10"
    )
    assert raw["service_lines"] == [
        {"procedure_code": "99213", "charge": "125"},
        {"procedure_code": "99214", "charge": "10"},
    ]


def test_procedures_for_prior_authorizations() -> None:
    raw = parse_data("procedure: code=97110, units=12, unit type=visits\nprocedure_2_cpt: 72148")
    assert raw["procedures"] == [
        {"procedure_code": "97110", "units": "12", "unit_type": "visits"},
        {"procedure_code": "72148"},
    ]


def test_clinical_notes_run_over_several_lines_until_a_known_key() -> None:
    raw = parse_data(
        "clinical notes: Pain for 10 weeks.\nPatient reports: worse at night.\nurgency: expedited"
    )
    assert raw["clinical_notes"] == "Pain for 10 weeks.\nPatient reports: worse at night."
    assert raw["urgency"] == "expedited"


def test_comments_blank_lines_quotes_and_unparsed_lines() -> None:
    raw = parse_data('# a comment\n\nmember_id: "ABC123"\njust some words\n')
    assert raw == {"member_id": "ABC123", "unparsed": ["just some words"]}


def test_list_bullets_are_ignored() -> None:
    raw = parse_data(
        "- member: A1\n* DOB: 1990-01-15\n3) payer: Acme\n\u2022 NPI: 1234567893\n-5 is not a bullet"
    )
    assert raw == {
        "member_id": "A1",
        "date_of_birth": "1990-01-15",
        "payer": "Acme",
        "provider_npi": "1234567893",
        "unparsed": ["-5 is not a bullet"],
    }


def test_unknown_keys_are_kept_under_their_normalised_name() -> None:
    assert parse_data("Referring Doctor's Name: Dr Who") == {"referring_doctors_name": "Dr Who"}


def test_repeated_scalar_with_different_values_keeps_both() -> None:
    assert parse_data("member: A1\nmember id: B2\nmember: A1")["member_id"] == ["A1", "B2"]
    assert parse_data("member: A1\nmember id: A1")["member_id"] == "A1"


def test_empty_values_are_dropped() -> None:
    assert parse_data("member_id:\npayer: Acme") == {"payer": "Acme"}


def test_json_object_goes_through_the_same_aliases() -> None:
    data = {
        "type": "ignored?",
        "Patient": "Doe, Jane",
        "DOB": "01/15/1990",
        "dx": ["E11.9", "I10, M54.50"],
        "service_lines": [{"CPT": "99213", "Charge": 125.5, "pointers": ["A"]}, "cpt=99214, charge=10"],
        "units": 2,
    }
    assert parse_data(json.dumps(data)) == {
        "type": "ignored?",
        "patient_first_name": "Jane",
        "patient_last_name": "Doe",
        "date_of_birth": "01/15/1990",
        "diagnosis_codes": ["E11.9", "I10", "M54.50"],
        "service_lines": [
            {"procedure_code": "99213", "charge": 125.5, "diagnosis_pointers": ["A"]},
            {"procedure_code": "99214", "charge": "10"},
        ],
        "units": 2,
    }


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"member_id": 1,', "not a valid JSON object"),
        ("{" * 100_000, "JSON"),
        ("member: A\x00B", "non-printable"),
        ("member: \x1b[31mred", "non-printable"),
        ("x" * (MAX_DATA_CHARS + 1), "too long"),
        ("member: \ud800", "non-printable"),
    ],
)
def test_unreadable_data_is_a_data_format_error(text: str, words: str) -> None:
    with pytest.raises(DataFormatError) as caught:
        parse_data(text)
    assert words in caught.value.message


def test_deeply_nested_json_is_refused_not_crashing() -> None:
    with pytest.raises(DataFormatError):
        parse_data('{"a": ' + "[" * 200_000 + "]" * 200_000 + "}")


def test_non_text_is_a_data_format_error() -> None:
    with pytest.raises(DataFormatError):
        parse_data(b"member: 1")  # type: ignore[arg-type]


def test_a_one_megabyte_string_is_refused_quickly() -> None:
    started = time.perf_counter()
    with pytest.raises(DataFormatError):
        parse_data("member_id: " + "9" * 1_000_000)
    assert time.perf_counter() - started < 1


@pytest.mark.parametrize(
    "text",
    [
        "a:" * 200_000,  # many colons on one line
        "member: " + "," * 400_000,
        "service line: " + "cpt=1," * 60_000,
        "\n".join(f"service_line_{i % 100}_cpt: 99213" for i in range(15_000)),
        "k" * 60 + ":" + " " * 400_000 + "x",
    ],
)
def test_large_hostile_inputs_parse_in_bounded_time(text: str) -> None:
    # These inputs are what makes a backtracking pattern go quadratic or worse: at their size that
    # is hours, while the linear parse takes well under a second on an idle machine. The bound only
    # tells those apart; it is far above what a loaded machine needs (a 2 s bound failed at load 15).
    started = time.process_time()
    parse_data(text)
    assert time.process_time() - started < 60


def test_injection_looking_text_is_just_data() -> None:
    raw = parse_data(
        "member_id: 1'; DROP TABLE tasks;--\n"
        "patient: {{ config }} <script>alert(1)</script>\n"
        "payer: ${jndi:x}"
    )
    assert raw["member_id"] == "1'; DROP TABLE tasks;--"
    assert raw["payer"] == "${jndi:x}"


def test_non_breaking_spaces_and_zero_width_characters_are_normalised() -> None:
    assert parse_data("member\u00a0id:\u200b ABC123\ufeff") == {"member_id": "ABC123"}


def test_merge_replaces_fields_and_whole_lists() -> None:
    old = {"member_id": "A1", "diagnosis_codes": ["E11.9", "I10"], "payer": "Acme"}
    new = parse_data("diagnosis: M54.50\nmember_id: B2")
    assert merge_raw(old, new) == {"member_id": "B2", "diagnosis_codes": ["M54.50"], "payer": "Acme"}


def test_merge_clears_a_field_given_as_none_or_empty() -> None:
    assert merge_raw({"member_id": "A1", "payer": "Acme"}, {"payer": None, "member_id": ""}) == {}


def test_the_readme_example_parses_as_documented() -> None:
    readme = (Path(__file__).resolve().parents[3] / "sops" / "README.md").read_text(encoding="utf-8")
    block = readme.split("```text\n", 1)[1].split("```", 1)[0]
    raw = parse_data(block)
    assert raw["diagnosis_codes"] == ["E11.9", "I10", "M54.50", "Z00.00"]
    assert [line["procedure_code"] for line in raw["service_lines"]] == ["99213", "J1100", "97110"]
    assert raw["service_lines"][0]["modifiers"] == "25 59"
    assert raw["procedures"] == [{"procedure_code": "97110", "units": "12", "unit_type": "visits"}]
