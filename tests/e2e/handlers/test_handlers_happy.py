"""Every task type on both mock payers, from task creation to a final state, with the portal's
inspection API confirming it received exactly the task's fields."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from tests.e2e.handlers import task_data
from tests.e2e.handlers.conftest import Clinic

pytestmark = pytest.mark.e2e

PAYERS = ["acme", "beacon"]
RecordProperty = Callable[[str, object], None]
CLAIM_NUMBER = {"acme": r"\d{13}", "beacon": r"BX\d{2}[A-M]\d{7}"}
CERTIFICATION = {"acme": r"PA-\d{4}-\d{2}-\d{4}", "beacon": r"BXA\d{9}"}


def same_patient(sent: dict[str, object], member: task_data.Member) -> None:
    assert sent["member_id"] == member.member_id
    assert (sent["patient_first_name"], sent["patient_last_name"]) == (member.first, member.last)
    assert sent["date_of_birth"] == member.dob


@pytest.mark.parametrize("payer", PAYERS)
def test_check_eligibility(clinic: Clinic, payer: str, record_property: RecordProperty) -> None:
    clinic.add_login(payer)
    task = clinic.create("check_eligibility", task_data.eligibility(payer))
    clinic.run()
    done = clinic.get(task.id)
    assert done.status == "completed", done.notes
    record_property("task_seconds", round(clinic.attempt_seconds(task.id), 2))
    result = done.result or {}
    assert result["coverage_status"] == "active"
    assert result["plan_name"] == "Acme Gold PPO (Synthetic)"
    assert result["copay"] == "25.00" and result["coinsurance_percent"] == 20
    assert result["deductible_remaining"] == "620.00" and result["out_of_pocket_total"] == "6000.00"
    assert re.fullmatch(r"\d{9}", result["reference_number"])
    assert (
        done.notes
        == f"Coverage is active (Acme Gold PPO (Synthetic)); reference {result['reference_number']}."
    )
    [sent] = [s for s in clinic.portal.submissions(payer=payer, kind="eligibility")]
    same_patient(sent["fields"], task_data.HAPPY)
    assert sent["fields"]["provider_npi"] == "2000000002" and sent["fields"]["service_type"] == "30"
    assert sent["identifiers"] == {"control_number": result["reference_number"]}


@pytest.mark.parametrize("payer", PAYERS)
def test_submit_claim(clinic: Clinic, payer: str, record_property: RecordProperty) -> None:
    clinic.add_login(payer)
    task = clinic.create("submit_claim", task_data.claim(payer, charges=("185.00", "120.00", "15.50")))
    clinic.run()
    done = clinic.get(task.id)
    assert done.status == "completed", done.notes
    record_property("task_seconds", round(clinic.attempt_seconds(task.id), 2))
    result = done.result or {}
    assert re.fullmatch(CLAIM_NUMBER[payer], result["claim_number"])
    assert result["claim_status"] in ("accepted", "acknowledged")
    assert result["total_charge"] == "320.50"
    assert done.notes == f"Claim submitted with reference {result['claim_number']}."
    [sent] = clinic.portal.submissions(payer=payer, kind="claim")
    assert sent["identifiers"] == {"claim_number": result["claim_number"]}
    fields = sent["fields"]
    same_patient(fields, task_data.HAPPY)
    assert (fields["billing_npi"], fields["tax_id"], fields["rendering_npi"]) == (
        "2000000010",
        "123456789",
        "2123456784",
    )
    assert fields["diagnosis_codes"] == ["E11.9", "I10"]
    assert fields["patient_account_number"] == "ACCT-0001"
    assert [
        (ln["procedure_code"], ln["units"], ln["charge"], ln["diagnosis_pointers"])
        for ln in fields["service_lines"]
    ] == [
        ("99214", 1, "185.00", "AB"),
        ("97110", 2, "120.00", "A"),
        ("J1100", 3, "15.50", "A"),
    ]
    assert {ln["place_of_service"] for ln in fields["service_lines"]} == {"11"}
    task_fields = done.fields
    assert [ln["service_date"] for ln in fields["service_lines"]] == [
        ln["service_date"] for ln in task_fields["service_lines"]
    ]


@pytest.mark.parametrize("payer", PAYERS)
def test_submit_prior_authorization_with_documents(
    clinic: Clinic, payer: str, record_property: RecordProperty
) -> None:
    clinic.add_login(payer)
    task = clinic.create(
        "submit_prior_authorization",
        task_data.authorization(payer),
        files=("clinical_notes.pdf", "medical_records.pdf"),
    )
    clinic.run()
    done = clinic.get(task.id)
    assert done.status == "completed", done.notes
    record_property("task_seconds", round(clinic.attempt_seconds(task.id), 2))
    result = done.result or {}
    assert result["decision"] == "approved" and result["decision_code"] == "A1"
    assert re.fullmatch(CERTIFICATION[payer], result["certification_number"])
    assert result["effective_date"] == done.fields["service_from"]
    assert result["approved_units"] == 13
    [sent] = clinic.portal.submissions(payer=payer, kind="prior_auth")
    assert sent["identifiers"]["reference_number"] == result["reference_number"]
    fields = sent["fields"]
    same_patient(fields, task_data.HAPPY)
    assert (fields["requesting_npi"], fields["servicing_npi"]) == ("2000000002", "2999999990")
    assert fields["diagnosis_codes"] == ["M54.50", "M51.16"]
    assert fields["procedures"] == [
        {"procedure_code": "97110", "units": 12, "unit_type": "visits"},
        {"procedure_code": "72148", "units": 1, "unit_type": "units"},
    ]
    assert (fields["service_from"], fields["service_to"]) == (
        done.fields["service_from"],
        done.fields["service_to"],
    )
    assert fields["urgency"] == "standard" and fields["place_of_service"] == "11"
    assert fields["clinical_notes"] == done.fields["clinical_notes"]
    assert sorted(f["name"] for f in sent["files"]) == ["clinical_notes.pdf", "medical_records.pdf"]


@pytest.mark.parametrize("payer", PAYERS)
def test_submit_appeal_with_documents(clinic: Clinic, payer: str, record_property: RecordProperty) -> None:
    clinic.add_login(payer)
    task = clinic.create("submit_appeal", task_data.appeal(payer), files=("appeal_letter.pdf",))
    clinic.run()
    done = clinic.get(task.id)
    assert done.status == "completed", done.notes
    record_property("task_seconds", round(clinic.attempt_seconds(task.id), 2))
    result = done.result or {}
    assert result["appeal_status"] == "received"
    assert result["original_claim_number"] == task_data.DENIED_CLAIM[payer]
    [sent] = clinic.portal.submissions(payer=payer, kind="appeal")
    assert sent["outcome"] == "filed"
    if payer == "acme":
        assert re.fullmatch(r"APL-\d{4}-\d{6}", result["tracking_number"])
        assert sent["identifiers"] == {"tracking_number": result["tracking_number"]}
    else:
        assert "tracking_number" not in result  # Beacon issues no dispute numbers
    fields = sent["fields"]
    same_patient(fields, task_data.APPEALS)
    assert fields["claim_number"] == task_data.DENIED_CLAIM[payer]
    assert fields["reason_category"] == "medical_necessity"
    assert fields["reason_text"] == done.fields["reason_text"]
    assert (fields["contact_name"], fields["contact_phone"]) == (
        "Sam Placeholder",
        done.fields["contact_phone"],
    )
    assert [f["name"] for f in sent["files"]] == ["appeal_letter.pdf"]
