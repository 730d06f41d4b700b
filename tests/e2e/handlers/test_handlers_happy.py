"""Every task type on both mock payers, from task creation to a final state, with the portal's
inspection API confirming it received exactly the task's fields (and files)."""

from __future__ import annotations

import re

from tests.e2e.handlers import task_data
from tests.e2e.handlers.conftest import Clinic
from tests.e2e.handlers.sent_fields import expected

CLAIM_NUMBER = {"acme": r"\d{13}", "beacon": r"BX\d{2}[A-M]\d{7}"}
CERTIFICATION = {"acme": r"PA-\d{4}-\d{2}-\d{4}", "beacon": r"BXA\d{9}"}
REFERENCE = {"acme": r"CASE-\d{8}-\d{5}", "beacon": r"\d{10}"}


def only_submission(clinic: Clinic, payer: str, kind: str) -> dict[str, object]:
    [sent] = clinic.portal.submissions(payer=payer, kind=kind)
    assert sent["username"] == clinic.portal.user(payer)["username"]
    return sent


def test_check_eligibility(clinic: Clinic, payer: str) -> None:
    clinic.add_login(payer)
    task = clinic.create("check_eligibility", task_data.eligibility(payer))
    clinic.run()
    done = clinic.get(task.id)
    assert done.status == "completed", done.notes
    clinic.record_time(task.id)
    result = done.result or {}
    assert result["coverage_status"] == "active" and result["network"] == "in_network"
    assert result["plan_name"] == "Acme Gold PPO (Synthetic)" and result["group_number"] == "GRP-10001"
    assert result["copay"] == "25.00" and result["coinsurance_percent"] == 20
    assert (result["deductible_total"], result["deductible_remaining"]) == ("1500.00", "620.00")
    assert (result["out_of_pocket_total"], result["out_of_pocket_remaining"]) == ("6000.00", "4880.00")
    assert result["coverage_start"].endswith("-01-01") and result["coverage_end"].endswith("-12-31")
    assert re.fullmatch(r"\d{9}", result["reference_number"])
    reference = result["reference_number"]
    assert done.notes == f"Coverage is active (Acme Gold PPO (Synthetic)); reference {reference}."
    sent = only_submission(clinic, payer, "eligibility")
    assert sent["fields"] == expected("check_eligibility", done.fields, payer)
    assert sent["identifiers"] == {"control_number": reference}


def test_submit_claim(clinic: Clinic, payer: str) -> None:
    clinic.add_login(payer)
    task = clinic.create("submit_claim", task_data.claim(payer, charges=("185.00", "120.00", "15.50")))
    clinic.run()
    done = clinic.get(task.id)
    assert done.status == "completed", done.notes
    clinic.record_time(task.id)
    result = done.result or {}
    assert re.fullmatch(CLAIM_NUMBER[payer], result["claim_number"])
    assert result["claim_status"] == {"acme": "accepted", "beacon": "acknowledged"}[payer]
    assert result["total_charge"] == "320.50"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z", result["confirmed_at"])
    assert result["confirmed_at_text"]
    assert done.notes == f"Claim submitted with reference {result['claim_number']}."
    # The confirmation page as the clerk prints it (on Beacon, the exchange around its iframe).
    assert result["claim_number"] in clinic.confirmation_text(task.id)
    sent = only_submission(clinic, payer, "claim")
    assert sent["fields"] == expected("submit_claim", done.fields, payer)
    assert sent["identifiers"] == {"claim_number": result["claim_number"]}
    assert sent["duplicate"] is False


def test_submit_prior_authorization_with_documents(clinic: Clinic, payer: str) -> None:
    clinic.add_login(payer)
    task = clinic.create(
        "submit_prior_authorization",
        task_data.authorization(payer),
        files=("clinical_notes.pdf", "medical_records.pdf"),
    )
    clinic.run()
    done = clinic.get(task.id)
    assert done.status == "completed", done.notes
    clinic.record_time(task.id)
    result = done.result or {}
    assert result["decision"] == "approved" and result["decision_code"] == "A1"
    assert re.fullmatch(CERTIFICATION[payer], result["certification_number"])
    assert re.fullmatch(REFERENCE[payer], result["reference_number"])
    assert result["effective_date"] == done.fields["service_from"]
    assert result["expiration_date"] >= done.fields["service_to"]
    assert result["approved_units"] == 13
    # The page the submit landed on, printed: Beacon pends the case there (decided at a later look).
    assert result["reference_number"] in clinic.confirmation_text(task.id)
    sent = only_submission(clinic, payer, "prior_auth")
    assert sent["fields"] == expected("submit_prior_authorization", done.fields, payer)
    assert sent["identifiers"]["reference_number"] == result["reference_number"]
    assert [f["name"] for f in sent["files"]] == ["clinical_notes.pdf", "medical_records.pdf"]
    assert {f["content_type"] for f in sent["files"]} == {"application/pdf"}


def test_submit_appeal_with_documents(clinic: Clinic, payer: str) -> None:
    clinic.add_login(payer)
    task = clinic.create("submit_appeal", task_data.appeal(payer), files=("appeal_letter.pdf",))
    clinic.run()
    done = clinic.get(task.id)
    assert done.status == "completed", done.notes
    clinic.record_time(task.id)
    result = done.result or {}
    assert result["appeal_status"] == "received"
    assert result["original_claim_number"] == task_data.DENIED_CLAIM[payer]
    sent = only_submission(clinic, payer, "appeal")
    assert sent["outcome"] == "filed"
    assert sent["fields"] == expected("submit_appeal", done.fields, payer)
    assert [f["name"] for f in sent["files"]] == ["appeal_letter.pdf"]
    printed = clinic.confirmation_text(task.id)
    # Beacon gives a dispute no number: its receipt names the disputed claim.
    assert result.get("tracking_number", task_data.DENIED_CLAIM[payer]) in printed
    if payer == "acme":
        assert re.fullmatch(r"APL-\d{4}-\d{6}", result["tracking_number"])
        assert sent["identifiers"] == {"tracking_number": result["tracking_number"]}
        assert done.notes == (
            f"Appeal filed for claim {task_data.DENIED_CLAIM[payer]} with tracking number "
            f"{result['tracking_number']}."
        )
    else:
        assert "tracking_number" not in result and sent["identifiers"] == {}  # Beacon issues none
        assert done.notes == f"Appeal filed for claim {task_data.DENIED_CLAIM[payer]}."
