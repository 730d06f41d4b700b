"""Status checks on both payers: claims (by member + dates and by number; pending, paid with the
check/EFT number, denied with its CARC, not found) and authorizations (by member + procedure +
dates, by reference and certification number; approved, denied, pended, not found)."""

from __future__ import annotations

import io
import re
from typing import Any

from pypdf import PdfReader

from tests.e2e.handlers import task_data
from tests.e2e.handlers.conftest import Clinic

UNKNOWN_CLAIM = {"acme": "2600199999999", "beacon": "BX26Z9999999"}
CLOCK_PAST_FINALIZED = 4 * 3600  # three stages of `claim_stage_minutes` (60) and more


def result_of(clinic: Clinic, task_id: str, status: str) -> dict[str, Any]:
    task = clinic.get(task_id)
    assert task.status == status, task.notes
    return task.result or {}


def document_text(clinic: Clinic, task_id: str, kind: str) -> str:
    """The text of the one document of `kind` the task kept from the portal (pypdf reads it)."""
    [content] = [content for row, content in clinic.portal_files(task_id) if row.kind == kind]
    assert content.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_a_claim_is_checked_until_paid_and_another_until_denied(clinic: Clinic, payer: str) -> None:
    clinic.add_login(payer)
    paid = clinic.create("submit_claim", task_data.claim(payer, charges=("185.00",)))
    denied = clinic.create("submit_claim", task_data.claim(payer, task_data.CLAIM_DENIED))
    clinic.run()
    paid_number = result_of(clinic, paid.id, "completed")["claim_number"]
    denied_number = result_of(clinic, denied.id, "completed")["claim_number"]

    early = clinic.create("check_claim_status", task_data.claim_status(payer, member=task_data.HAPPY))
    missing = clinic.create(
        "check_claim_status", task_data.claim_status(payer, claim_number=UNKNOWN_CLAIM[payer])
    )
    clinic.run()
    pending = result_of(clinic, early.id, "completed_with_issues")
    assert pending["claim_number"] == paid_number
    assert pending["status_category"] in ("acknowledged", "pending")
    assert "paid_amount" not in pending and "payment_number" not in pending
    assert "not finalized yet" in (clinic.get(early.id).notes or "")
    assert clinic.portal_files(early.id) == []  # no EOB before the claim is finalized
    nothing = result_of(clinic, missing.id, "completed_with_issues")
    assert nothing["status_category"] == "not_found"
    assert "no claim matching" in (clinic.get(missing.id).notes or "")

    clinic.portal.advance_clock(CLOCK_PAST_FINALIZED)
    by_number = clinic.create("check_claim_status", task_data.claim_status(payer, claim_number=paid_number))
    by_member = clinic.create(
        "check_claim_status", task_data.claim_status(payer, member=task_data.CLAIM_DENIED)
    )
    clinic.run()
    result = result_of(clinic, by_number.id, "completed")
    assert (result["claim_number"], result["status_category"]) == (paid_number, "finalized_paid")
    assert (result["total_charge"], result["paid_amount"]) == ("185.00", "148.00")  # 80 % paid
    assert result["payment_method"] == ("check" if payer == "acme" else "eft")
    assert re.fullmatch(r"\d{8}" if payer == "acme" else r"\d{15}", result["payment_number"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", result["paid_date"])
    assert result["adjustment_codes"] == ["CO-45"]
    assert result["adjustment_reasons"][0].startswith("CO-45: ")
    assert result["payment_number"] in (clinic.get(by_number.id).notes or "")
    assert paid_number in document_text(clinic, by_number.id, "eob")

    result = result_of(clinic, by_member.id, "completed_with_issues")
    assert (result["claim_number"], result["status_category"]) == (denied_number, "finalized_denied")
    assert result["adjustment_codes"] == ["CO-50"]
    assert "CO-50" in result["denial_reason"]
    assert result.get("paid_amount") in (None, "0.00")
    assert "was denied (CO-50)" in (clinic.get(by_member.id).notes or "")
    assert "CO-50" in document_text(clinic, by_member.id, "eob")
    # Each check is one search on the portal (then the claim's page when it found one).
    lookups = clinic.portal.lookups(payer=payer, kind="claim")
    searches = sorted((found["key"], found["category"]) for found in lookups if found["page"] == "search")
    assert [key for key, _ in searches] == ["claim_number", "claim_number", "member", "member"]
    assert ("claim_number", "not_found") in searches
    assert len([found for found in lookups if found["page"] == "detail"]) == 3


def test_an_eob_the_portal_opens_in_a_new_tab_is_kept(clinic: Clinic, payer: str) -> None:
    """Many portals open a PDF in a new tab instead of downloading it (a link with a target, the
    PDF served inline): the headless browser downloads it from that tab, and Chromium reports the
    download on the page that opened the tab, where `ctx.documents.download` waits for it."""
    clinic.add_login(payer)
    paid = clinic.create("submit_claim", task_data.claim(payer, charges=("185.00",)))
    clinic.run()
    number = result_of(clinic, paid.id, "completed")["claim_number"]
    clinic.portal.advance_clock(CLOCK_PAST_FINALIZED)
    clinic.portal.set_knobs(documents_in_new_tab=True)
    check = clinic.create("check_claim_status", task_data.claim_status(payer, claim_number=number))
    clinic.run()
    assert result_of(clinic, check.id, "completed")["status_category"] == "finalized_paid"
    assert number in document_text(clinic, check.id, "eob")
    said = " ".join(step.message or "" for step in clinic.steps(check.id))
    assert "could not be downloaded" not in said


def test_a_member_search_matching_several_claims_reads_the_newest_and_names_the_others(
    clinic: Clinic, payer: str
) -> None:
    clinic.add_login(payer)
    first = clinic.create("submit_claim", task_data.claim(payer, charges=("185.00",)))
    clinic.run()
    second = clinic.create("submit_claim", task_data.claim(payer, charges=("95.00",)))
    clinic.run()
    older = result_of(clinic, first.id, "completed")["claim_number"]
    newer = result_of(clinic, second.id, "completed")["claim_number"]
    check = clinic.create("check_claim_status", task_data.claim_status(payer, member=task_data.HAPPY))
    clinic.run()
    assert result_of(clinic, check.id, "completed_with_issues")["claim_number"] == newer
    said = " ".join(step.message or "" for step in clinic.steps(check.id))
    assert f"2 claims match the member and dates; this is the newest ({newer})" in said
    assert f"Give a claim_number to check another: {older}." in said


def test_authorizations_are_looked_up_by_member_reference_and_certification(
    clinic: Clinic, payer: str
) -> None:
    clinic.add_login(payer)
    approved = clinic.create("submit_prior_authorization", task_data.authorization(payer))
    denied = clinic.create(
        "submit_prior_authorization", task_data.authorization(payer, task_data.AUTH_DENIED)
    )
    pended = clinic.create(
        "submit_prior_authorization", task_data.authorization(payer, task_data.AUTH_PENDED_LONG)
    )
    clinic.run()
    submitted = result_of(clinic, approved.id, "completed")
    denied_ref = result_of(clinic, denied.id, "completed_with_issues")["reference_number"]
    pended_ref = result_of(clinic, pended.id, "completed_with_issues")["reference_number"]

    checks = {
        "member": task_data.authorization_status(payer, member=task_data.HAPPY),
        "certification": task_data.authorization_status(
            payer, certification=submitted["certification_number"]
        ),
        "denied": task_data.authorization_status(payer, reference=denied_ref),
        "pended": task_data.authorization_status(payer, reference=pended_ref),
        "missing": task_data.authorization_status(payer, reference="NOSUCH-0001"),
    }
    tasks = {name: clinic.create("check_authorization_status", data).id for name, data in checks.items()}
    clinic.run()

    for name in ("member", "certification"):
        result = result_of(clinic, tasks[name], "completed")
        assert (result["decision"], result["decision_code"]) == ("approved", "A1")
        assert result["certification_number"] == submitted["certification_number"]
        assert result["reference_number"] == submitted["reference_number"]
        assert result["approved_units"] == 13  # 12 visits + 1 unit, all approved
        assert re.fullmatch(r"\d{4}-\d\d-\d\d", result["decision_date"])
        assert result["effective_date"] <= result["expiration_date"]
        assert submitted["certification_number"] in document_text(clinic, tasks[name], "approval_letter")
    result = result_of(clinic, tasks["denied"], "completed_with_issues")
    assert (result["decision"], result["decision_code"]) == ("denied", "A3")
    assert result["denial_reason"] and result["decision_date"]
    assert denied_ref in document_text(clinic, tasks["denied"], "denial_letter")
    result = result_of(clinic, tasks["pended"], "completed_with_issues")
    assert (result["decision"], result["reference_number"]) == ("pended", pended_ref)
    assert "decision_date" not in result
    assert clinic.portal_files(tasks["pended"]) == []  # no letter before a decision
    result = result_of(clinic, tasks["missing"], "completed_with_issues")
    assert "decision" not in result and result["payer_message"]
    assert "no authorization request matching" in (clinic.get(tasks["missing"]).notes or "")
