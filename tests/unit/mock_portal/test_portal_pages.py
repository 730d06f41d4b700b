"""Every outcome page of both payers renders (HTTP, no browser), with the ids automation reads."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from tests.unit.mock_portal.portal_samples import MEMBERS

ELIGIBILITY_CASES = [
    ("SYN100001", None, "Active"),
    ("SYN100002", None, "Inactive"),
    ("SYN000404", None, "not found"),
    ("SYN100001", date(1980, 4, 13), "Date of birth"),
    ("SYN100042", None, "unavailable"),
]


def text_of(html: str, name: str) -> str:
    found = re.search(rf'data-testid="{name}"[^>]*>([^<]*)<', html)
    assert found, f"no {name}"
    return found.group(1).strip()


def patient(member_id: str, dob_format: str, dob: date | None = None) -> dict[str, str]:
    first, last, born = MEMBERS.get(member_id, ("No", "Body", date(1990, 1, 1)))
    return {
        "member_id": member_id,
        "patient_first_name": first,
        "patient_last_name": last,
        "date_of_birth": (dob or born).strftime(dob_format),
    }


@pytest.mark.parametrize(("member_id", "dob", "status"), ELIGIBILITY_CASES)
def test_acme_eligibility_outcomes_render(
    acme: TestClient, member_id: str, dob: date | None, status: str
) -> None:
    data = {**patient(member_id, "%m/%d/%Y", dob), "service_type": "30", "provider_npi": "2000000002"}
    page = acme.post("/acme/eligibility", data=data).text
    assert status.lower() in text_of(page, "coverage-status").lower()
    assert re.fullmatch(r"\d{9}", text_of(page, "eligibility-control-number"))


@pytest.mark.parametrize(("member_id", "dob", "status"), ELIGIBILITY_CASES)
def test_beacon_eligibility_outcomes_render(
    beacon: TestClient, member_id: str, dob: date | None, status: str
) -> None:
    data = {
        **patient(member_id, "%Y-%m-%d", dob),
        "service_type": "30",
        "payer_id": "ACMEH",
        "payer_name": "Acme Health",
    }
    page = beacon.post("/beacon/app/eligibility", data=data).text
    assert status.lower() in text_of(page, "bx-coverage-status").lower()


def beacon_claim(member_id: str) -> dict[str, str]:
    day = (date.today() - timedelta(days=1)).isoformat()
    return {
        **patient(member_id, "%Y-%m-%d"), "payer_id": "ACMEH", "payer_name": "Acme Health",
        "billing_npi": "2000000002", "tax_id": "123456789", "diagnosis_A": "I10", "line_count": "1",
        "line_0_service_date": day, "line_0_place_of_service": "11", "line_0_procedure_code": "99213",
        "line_0_units": "1", "line_0_charge": "90", "line_0_diagnosis_pointers": "A",
    }  # fmt: skip


def acme_claim(member_id: str) -> dict[str, str]:
    form = beacon_claim(member_id)
    form.update(patient(member_id, "%m/%d/%Y"), action="submit")
    form["line_0_service_date"] = (date.today() - timedelta(days=1)).strftime("%m/%d/%Y")
    del form["payer_id"], form["payer_name"]
    return form


def test_beacon_claim_rejection_and_validation(beacon: TestClient) -> None:
    rejected = beacon.post("/beacon/app/claims/new", data=beacon_claim("SYN100010")).text
    assert "not enrolled" in rejected and re.fullmatch(r"BETRC\d{8}", text_of(rejected, "bx-trace-number"))
    invalid = beacon.post(
        "/beacon/app/claims/new", data={**beacon_claim("SYN100001"), "line_0_charge": "0"}
    ).text
    assert "greater than 0" in invalid and 'data-testid="bx-error-summary"' in invalid


def test_beacon_bills_only_for_the_organization_of_the_provider_context(beacon: TestClient) -> None:
    """The context is Maple Street (TIN 12-3456789): a billing NPI of another organization, or
    another TIN, is refused at the form with the exchange's message, and nothing reaches the payer."""
    other_org = beacon.post(
        "/beacon/app/claims/new", data={**beacon_claim("SYN100001"), "billing_npi": "2123456784"}
    ).text
    assert 'data-testid="bx-error-summary"' in other_org
    assert (
        "Billing NPI 2123456784 is not a provider of Maple Street Synthetic Family Practice (TIN 12-3456789)"
        in html.unescape(other_org)
    )
    unknown = beacon.post(
        "/beacon/app/claims/new", data={**beacon_claim("SYN100001"), "billing_npi": "2000000028"}
    ).text
    assert "Billing NPI 2000000028 is not a provider of" in html.unescape(unknown)
    wrong_tin = beacon.post(
        "/beacon/app/claims/new", data={**beacon_claim("SYN100001"), "tax_id": "452345678"}
    ).text
    assert "Billing Tax ID 45-2345678 does not match the selected organization" in html.unescape(wrong_tin)
    assert beacon.get("/_mock/submissions", params={"kind": "claim"}).json() == []
    accepted = beacon.post(
        "/beacon/app/claims/new", data={**beacon_claim("SYN100001"), "billing_npi": "2000000010"}
    ).text
    assert re.fullmatch(r"BX\w+", text_of(accepted, "bx-claim-id"))


def test_acme_can_be_switched_to_a_soft_duplicate_warning(acme: TestClient) -> None:
    acme.patch("/_mock/knobs", json={"duplicate_mode": {"acme": "warn"}})
    first = text_of(acme.post("/acme/claims/new", data=acme_claim("SYN100001")).text, "claim-number")
    warned = acme.post("/acme/claims/new", data=acme_claim("SYN100001")).text
    assert text_of(warned, "duplicate-of") == first and "Submit anyway" in warned
    forced = acme.post("/acme/claims/new", data={**acme_claim("SYN100001"), "confirm_duplicate": "yes"}).text
    assert text_of(forced, "claim-number") != first


def test_beacon_can_be_switched_to_a_hard_block_and_silent_duplicates(beacon: TestClient) -> None:
    beacon.patch("/_mock/knobs", json={"duplicate_mode": {"beacon": "block"}})
    first = text_of(beacon.post("/beacon/app/claims/new", data=beacon_claim("SYN100001")).text, "bx-claim-id")
    blocked = beacon.post("/beacon/app/claims/new", data=beacon_claim("SYN100001")).text
    assert f"matches claim ID {first}" in blocked
    beacon.patch("/_mock/knobs", json={"duplicate_mode": {"beacon": "silent"}, "claim_stage_polls": 0})
    again = text_of(beacon.post("/beacon/app/claims/new", data=beacon_claim("SYN100001")).text, "bx-claim-id")
    detail = beacon.get(f"/beacon/app/claims/{again}").text
    assert text_of(detail, "bx-claim-status") == "Finalized - Denied" and "CO-18" in text_of(
        detail, "bx-denial-reason"
    )
    assert "Dispute this claim" in detail


def beacon_auth(member_id: str) -> dict[str, str]:
    start = (date.today() + timedelta(days=3)).isoformat()
    return {
        **patient(member_id, "%Y-%m-%d"), "payer_id": "ACMEH", "payer_name": "Acme Health",
        "requesting_npi": "2000000002", "servicing_npi": "2000000010", "diagnosis_A": "M54.50",
        "proc_0_code": "97110", "proc_0_units": "8", "proc_0_unit_type": "visits", "service_from": start,
        "service_to": start, "urgency": "expedited", "place_of_service": "11",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("member_id", "status", "cert"),
    [
        ("SYN100020", "Certified - Partial", True),
        ("SYN100021", "Not Certified", False),
        ("SYN100024", "No Authorization Required", False),
    ],
)
def test_beacon_auth_outcomes(beacon: TestClient, member_id: str, status: str, cert: bool) -> None:
    beacon.patch("/_mock/knobs", json={"pended_polls": 1})
    page = beacon.post("/beacon/app/auths/new", data=beacon_auth(member_id)).text
    case = text_of(page, "bx-auth-case-number")
    detail = beacon.get(f"/beacon/app/auths/{case}").text
    assert text_of(detail, "bx-auth-status") == status
    assert ('data-testid="bx-auth-certification-number"' in detail) is cert
    found = beacon.get("/beacon/app/auths/status", params={"member_id": member_id}).text
    assert found.count('data-testid="bx-auth-row"') == 1


def test_beacon_auth_requires_a_payer_from_the_list(beacon: TestClient) -> None:
    page = beacon.post("/beacon/app/auths/new", data={**beacon_auth("SYN100001"), "payer_id": ""}).text
    assert "Select a payer from the list." in page


@pytest.mark.parametrize(
    ("member_id", "decision"),
    [
        ("SYN100020", "Partially approved"),
        ("SYN100021", "Denied"),
        ("SYN100024", "No authorization required"),
    ],
)
def test_acme_wizard_outcomes(acme: TestClient, member_id: str, decision: str) -> None:
    start = (date.today() + timedelta(days=3)).strftime("%m/%d/%Y")
    acme.get("/acme/auths/new")
    step1 = {**patient(member_id, "%m/%d/%Y"), "requesting_npi": "2000000002", "servicing_npi": "2000000010"}
    assert acme.post("/acme/auths/new/1", data={**step1, "action": "next"}).url.path == "/acme/auths/new/2"
    step2 = {
        "diagnosis_A": "M54.50", "proc_0_code": "97110", "proc_0_units": "8", "proc_0_unit_type": "visits",
        "proc_1_code": "97140", "proc_1_units": "4", "proc_1_unit_type": "units", "service_from": start,
        "service_to": start, "urgency": "standard", "place_of_service": "11", "action": "next",
    }  # fmt: skip
    assert acme.post("/acme/auths/new/2", data=step2).url.path == "/acme/auths/new/3"
    assert acme.post("/acme/auths/new/3", data={"action": "next"}).url.path == "/acme/auths/new/4"
    page = acme.post("/acme/auths/new/4", data={"action": "submit"}).text
    assert text_of(page, "auth-decision") == decision
    fields = acme.get("/_mock/submissions", params={"kind": "prior_auth"}).json()[0]["fields"]
    assert [p["procedure_code"] for p in fields["procedures"]] == ["97110", "97140"]
    assert acme.post("/acme/auths/new/4", data={"action": "submit"}).url.path == "/acme/auths/new/1"


def test_not_found_pages(acme: TestClient, beacon: TestClient) -> None:
    assert acme.get("/acme/claims/2699999999999").status_code == 404
    assert acme.get("/acme/auths/CASE-0").status_code == 404
    assert beacon.get("/beacon/app/claims/BX00A0000000").status_code == 404
    assert beacon.get("/beacon/app/auths/1").status_code == 404


def test_lookup_pages_without_results(acme: TestClient, beacon: TestClient) -> None:
    assert (
        'data-testid="no-results"' in acme.get("/acme/claims/status", params={"member_id": "SYN000404"}).text
    )
    assert (
        "Enter a claim number or a member ID."
        in acme.get("/acme/claims/status", params={"member_id": ""}).text
    )
    assert (
        'data-testid="no-results"' in acme.get("/acme/appeals", params={"claim_number": "2600100000102"}).text
    )
    assert (
        'data-testid="no-results"' in acme.get("/acme/auths/lookup", params={"member_id": "SYN100001"}).text
    )
    assert (
        'data-testid="bx-no-results"' in beacon.get("/beacon/app/disputes", params={"claim_number": "X"}).text
    )
    seeded = beacon.get("/beacon/app/disputes", params={"claim_number": "BX26A0000103"}).text
    assert seeded.count('data-testid="bx-dispute-row"') == 1
    listed = beacon.get("/beacon/app/claims/status", params={"member_id": "SYN100030"}).text
    assert listed.count('data-testid="bx-claim-row"') == 3


def test_seeded_claim_details(acme: TestClient) -> None:
    denied_with_appeal = acme.get("/acme/claims/2600100000103").text
    assert "APL-2026-000017" in text_of(denied_with_appeal, "appeal-on-file")
    assert "File appeal" not in denied_with_appeal
    assert "File appeal" in acme.get("/acme/claims/2600100000101").text


def test_beacon_error_summary_links_reach_service_line_fields(beacon: TestClient) -> None:
    beacon.patch("/_mock/knobs", json={"drift_seed": 5})
    page = beacon.post(
        "/beacon/app/claims/new", data={**beacon_claim("SYN100001"), "line_0_charge": "0"}
    ).text
    target = re.search(r'<li><a href="#([^"]+)">Charge must be', page)
    assert target and f'id="{target.group(1)}" name="line_0_charge"' in page


def test_beacon_dispute_upload_errors(beacon: TestClient) -> None:
    form = {
        **patient("SYN100030", "%Y-%m-%d"), "claim_number": "BX26A0000101", "reason_category": "other",
        "reason_text": "Please look again.", "contact_name": "Casey", "contact_phone": "5550109876",
    }  # fmt: skip
    page = beacon.post(
        "/beacon/app/disputes/new", data=form, files=[("attachments", ("x.exe", b"MZ", "x"))]
    ).text
    assert "x.exe: files of type .exe are not accepted" in page and 'data-testid="bx-upload-errors"' in page
    assert beacon.get("/_mock/submissions", params={"kind": "appeal"}).json() == []
