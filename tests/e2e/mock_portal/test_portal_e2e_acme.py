"""Acme Health in Chromium: every workflow, driven by labels, roles and test ids, checked against
what the inspection API says the payer received."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.support.portal_server import MockPortalAdmin

DOCUMENTS = Path(__file__).resolve().parents[3] / "fixtures" / "documents"


def us(day: date) -> str:
    return day.strftime("%m/%d/%Y")


def check_eligibility(page: Page, member_id: str, first: str, last: str, dob_digits: str) -> None:
    page.goto("/acme/eligibility")
    page.get_by_label("Member ID").fill(member_id)
    page.get_by_label("Patient first name").fill(first)
    page.get_by_label("Patient last name").fill(last)
    page.get_by_label("Date of birth").press_sequentially(dob_digits)  # a masked input: type, do not paste
    page.get_by_label("Provider NPI").fill("2000000002")
    page.get_by_role("button", name="Check eligibility").click()


def test_eligibility_active_with_benefits(acme: Page, portal: MockPortalAdmin) -> None:
    acme.get_by_role("link", name="Eligibility & Benefits", exact=True).click()
    check_eligibility(acme, "SYN100001", "Ada", "Testmember", "04121980")
    expect(acme.get_by_test_id("coverage-status")).to_have_text("Active")
    expect(acme.get_by_test_id("plan-name")).to_have_text("Acme Gold PPO (Synthetic)")
    expect(acme.get_by_test_id("copay")).to_have_text("$25.00")
    expect(acme.get_by_test_id("deductible-remaining")).to_have_text("$620.00")
    expect(acme.get_by_test_id("eligibility-control-number")).to_have_text(re.compile(r"^\d{9}$"))
    expect(acme.get_by_test_id("checked-at")).to_have_text(
        re.compile(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2} [AP]M UTC")
    )
    expect(acme.get_by_role("alert")).to_have_count(0)
    [inquiry] = portal.submissions(payer="acme", kind="eligibility")
    assert inquiry["fields"] == {
        "member_id": "SYN100001",
        "patient_first_name": "Ada",
        "patient_last_name": "Testmember",
        "date_of_birth": "1980-04-12",
        "service_date": date.today().isoformat(),
        "service_type": "30",
        "provider_npi": "2000000002",
    }
    assert (
        inquiry["identifiers"]["control_number"]
        == acme.get_by_test_id("eligibility-control-number").inner_text()
    )


@pytest.mark.parametrize(
    ("member_id", "first", "last", "dob", "status", "aaa"),
    [
        ("SYN100002", "Ben", "Inactiveton", "09301975", "Inactive", None),
        ("SYN555555", "Nobody", "Known", "01011990", "Member not found", "75"),
        ("SYN100001", "Ada", "Testmember", "04131980", "Date of birth does not match", "71"),
        ("SYN100042", "Cy", "Unavailable", "10101970", "Payer unavailable", "42"),
    ],
)
def test_eligibility_other_outcomes(
    acme: Page, member_id: str, first: str, last: str, dob: str, status: str, aaa: str | None
) -> None:
    check_eligibility(acme, member_id, first, last, dob)
    expect(acme.get_by_test_id("coverage-status")).to_have_text(status)
    if aaa:
        expect(acme.get_by_role("alert")).to_contain_text(f"AAA {aaa}")


def fill_claim(page: Page, member: tuple[str, str, str, str], lines: list[tuple[str, str, str]]) -> None:
    """member: id, first, last, DOB (MM/DD/YYYY); lines: (procedure, units, charge)."""
    page.goto("/acme/claims/new")
    member_id, first, last, dob = member
    page.get_by_label("Member ID").fill(member_id)
    page.get_by_label("Patient first name").fill(first)
    page.get_by_label("Patient last name").fill(last)
    page.get_by_label("Patient date of birth").fill(dob)
    page.get_by_label("Billing provider NPI").fill("2000000002")
    page.get_by_label("Federal tax ID (EIN)").fill("12-3456789")
    page.get_by_label("Diagnosis code A").fill("M54.50")
    page.get_by_label("Diagnosis code B").fill("I10")
    for index, (code, units, charge) in enumerate(lines):
        if index:
            page.get_by_role("button", name="Add service line").click()
        line = page.get_by_role("group", name=f"Service line {index + 1}")
        line.get_by_label("Date of service").fill(us(date.today() - timedelta(days=3)))
        line.get_by_label("Place of service").select_option("11")
        line.get_by_label("Procedure code (CPT/HCPCS)").fill(code)
        line.get_by_label("Units").fill(units)
        line.get_by_label("Charge").fill(charge)
        line.get_by_label("Diagnosis pointers").fill("AB" if index == 0 else "A")


ADA = ("SYN100001", "Ada", "Testmember", "04/12/1980")


def test_claim_validation_then_accepted_with_two_lines(acme: Page, portal: MockPortalAdmin) -> None:
    acme.goto("/acme/claims/new")
    acme.get_by_role("button", name="Submit claim").click()
    summary = acme.get_by_test_id("error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_have_attribute("role", "alert")
    expect(summary).to_contain_text("Enter the member ID.")
    expect(acme.get_by_label("Member ID")).to_have_attribute("aria-invalid", "true")
    assert portal.submissions(kind="claim") == []

    fill_claim(acme, ADA, [("99213", "1", "125.00"), ("93000", "1", "40.00")])
    expect(
        acme.get_by_role("group", name="Service line 1").get_by_label("Procedure code (CPT/HCPCS)")
    ).to_have_value("99213")
    acme.get_by_role("button", name="Submit claim").click()
    expect(acme.get_by_role("heading", name="Claim submitted")).to_be_visible()
    number = acme.get_by_test_id("claim-number").inner_text()
    assert re.fullmatch(r"\d{13}", number)
    expect(acme.get_by_test_id("total-charge")).to_have_text("$165.00")
    expect(acme.get_by_test_id("submitted-at")).to_be_visible()

    [claim] = portal.submissions(payer="acme", kind="claim")
    service_date = (date.today() - timedelta(days=3)).isoformat()

    def line(code: str, charge: str, pointers: str) -> dict[str, object]:
        return {
            "service_date": service_date, "place_of_service": "11", "procedure_code": code, "modifiers": [],
            "units": 1, "charge": charge, "diagnosis_pointers": pointers,
        }  # fmt: skip

    assert claim["outcome"] == "accepted" and claim["identifiers"] == {"claim_number": number}
    assert claim["duplicate"] is False
    assert claim["fields"] == {
        "member_id": "SYN100001",
        "patient_first_name": "Ada",
        "patient_last_name": "Testmember",
        "date_of_birth": "1980-04-12",
        "billing_npi": "2000000002",
        "tax_id": "123456789",
        "rendering_npi": "",
        "diagnosis_codes": ["M54.50", "I10"],
        "service_lines": [line("99213", "125.00", "AB"), line("93000", "40.00", "A")],
        "total_charge": "165.00",
        "patient_account_number": "",
        "prior_auth_number": "",
        "resubmission_code": "1",
        "original_claim_number": "",
    }


def test_claim_front_end_rejection(acme: Page, portal: MockPortalAdmin) -> None:
    fill_claim(acme, ("SYN100010", "Dee", "Rejectson", "01/15/1990"), [("99213", "1", "125.00")])
    acme.get_by_role("button", name="Submit claim").click()
    expect(acme.get_by_role("heading", name="Claim rejected")).to_be_visible()
    expect(acme.get_by_test_id("rejection-reason")).to_have_count(2)
    expect(acme.get_by_test_id("claim-number")).to_have_count(0)
    expect(acme.get_by_test_id("trace-number")).to_have_text(re.compile(r"^ACTRC\d{8}$"))
    assert portal.submissions(kind="claim")[0]["outcome"] == "rejected"


def test_duplicate_claim_is_blocked(acme: Page, portal: MockPortalAdmin) -> None:
    fill_claim(acme, ADA, [("99214", "1", "150.00")])
    acme.get_by_role("button", name="Submit claim").click()
    first = acme.get_by_test_id("claim-number").inner_text()
    fill_claim(acme, ADA, [("99214", "1", "150.00")])
    acme.get_by_role("button", name="Submit claim").click()
    expect(acme.get_by_test_id("duplicate-blocked")).to_be_visible()
    expect(acme.get_by_test_id("duplicate-of")).to_have_text(first)
    second = portal.submissions(kind="claim")[1]
    assert second["duplicate"] is True and second["duplicate_of"] == first and second["identifiers"] == {}


def test_denied_claim_offers_appeal_with_tracking_number(acme: Page, portal: MockPortalAdmin) -> None:
    fill_claim(acme, ("SYN100011", "Eve", "Deniedclaim", "07/04/1968"), [("97110", "4", "180.00")])
    acme.get_by_role("button", name="Submit claim").click()
    number = acme.get_by_test_id("claim-number").inner_text()

    acme.get_by_role("link", name="Claim Status", exact=True).click()
    acme.get_by_label("Member ID").fill("SYN100011")
    acme.get_by_role("button", name="Search claims").click()
    acme.get_by_test_id("claim-results").get_by_role("link", name=number).click()
    expect(acme.get_by_test_id("claim-status")).to_have_text("In process")
    expect(acme.get_by_role("link", name="File appeal")).to_have_count(0)
    acme.reload()
    expect(acme.get_by_test_id("claim-status")).to_have_text("Denied")
    expect(acme.get_by_test_id("denial-reason")).to_contain_text("CO-50")

    acme.get_by_role("link", name="File appeal").click()
    expect(acme.get_by_label("Claim number")).to_have_value(number)
    acme.get_by_label("Reason for appeal").select_option(label="Medical necessity")
    acme.get_by_label("Explain why the claim should be reconsidered").fill(
        "Therapy notes show functional deficits."
    )
    acme.get_by_label("Contact name").fill("Avery Billingclerk")
    acme.get_by_label("Contact phone").fill("555-010-1234")
    acme.get_by_label("Supporting documents").set_input_files(DOCUMENTS / "appeal_letter.pdf")
    acme.get_by_role("button", name="Submit appeal").click()
    tracking = acme.get_by_test_id("appeal-tracking-number")
    expect(tracking).to_have_text(re.compile(r"^APL-\d{4}-\d{6}$"))
    expect(acme.get_by_test_id("appeal-documents")).to_have_text("appeal_letter.pdf")

    [appeal] = portal.submissions(payer="acme", kind="appeal")
    assert appeal["identifiers"] == {"tracking_number": tracking.inner_text()}
    assert (
        appeal["fields"]["claim_number"] == number
        and appeal["fields"]["reason_category"] == "medical_necessity"
    )
    assert [f["name"] for f in appeal["files"]] == ["appeal_letter.pdf"]
    assert appeal["files"][0]["size"] == (DOCUMENTS / "appeal_letter.pdf").stat().st_size

    acme.goto(f"/acme/appeals?claim_number={number}")
    expect(acme.get_by_test_id("appeal-row")).to_have_count(1)
    acme.goto(f"/acme/appeals/new?claim_number={number}")
    acme.get_by_label("Reason for appeal").select_option("other")
    acme.get_by_label("Explain why the claim should be reconsidered").fill("Second try at the same claim.")
    acme.get_by_label("Contact name").fill("Avery Billingclerk")
    acme.get_by_label("Contact phone").fill("5550101234")
    acme.get_by_role("button", name="Submit appeal").click()
    expect(acme.get_by_test_id("error-summary")).to_contain_text("already on file")


def test_paid_claim_is_not_appealable(acme: Page) -> None:
    acme.goto("/acme/claims/2600100000102")
    expect(acme.get_by_test_id("claim-status")).to_have_text("Paid")
    expect(acme.get_by_role("link", name="File appeal")).to_have_count(0)
    acme.goto("/acme/appeals/new?claim_number=2600100000102")
    acme.get_by_label("Reason for appeal").select_option("corrected_coding")
    acme.get_by_label("Explain why the claim should be reconsidered").fill("Corrected the modifier.")
    acme.get_by_label("Contact name").fill("Avery Billingclerk")
    acme.get_by_label("Contact phone").fill("5550101234")
    acme.get_by_role("button", name="Submit appeal").click()
    expect(acme.get_by_test_id("error-summary")).to_contain_text("is not appealable")


def wizard_patient(page: Page, member: tuple[str, str, str, str]) -> None:
    member_id, first, last, dob = member
    page.get_by_label("Member ID").fill(member_id)
    page.get_by_label("Patient first name").fill(first)
    page.get_by_label("Patient last name").fill(last)
    page.get_by_label("Patient date of birth").fill(dob)
    page.get_by_label("Requesting provider NPI").fill("2000000002")
    page.get_by_label("Servicing provider NPI").fill("2123456784")


def wizard_service(page: Page) -> None:
    start = date.today() + timedelta(days=14)
    page.get_by_label("Primary diagnosis code (ICD-10-CM)").fill("M17.11")
    first = page.get_by_role("group", name="Procedure 1")
    first.get_by_label("Procedure code").fill("27447")
    first.get_by_label("Requested quantity").fill("1")
    page.get_by_label("Start date").fill(us(start))
    page.get_by_label("End date").fill(us(start + timedelta(days=30)))
    page.get_by_label("Place of service").select_option("22")


def test_prior_auth_wizard_with_upload_is_approved(
    acme: Page, portal: MockPortalAdmin, tmp_path: Path
) -> None:
    acme.get_by_role("link", name="Prior Authorization", exact=True).click()
    expect(acme.get_by_test_id("wizard-step")).to_have_text("Patient and providers")
    acme.get_by_role("button", name="Next").click()
    expect(acme.get_by_test_id("error-summary")).to_contain_text("Enter the member ID.")
    wizard_patient(acme, ADA)
    acme.get_by_role("button", name="Next").click()
    expect(acme.get_by_test_id("wizard-step")).to_have_text("Service details")
    acme.get_by_role("button", name="Back").click()
    expect(acme.get_by_label("Member ID")).to_have_value("SYN100001")
    acme.get_by_role("button", name="Next").click()
    wizard_service(acme)
    acme.get_by_role("button", name="Next").click()

    expect(acme.get_by_test_id("wizard-step")).to_have_text("Clinical information")
    acme.get_by_label("Clinical notes").fill("Failed 12 weeks of physical therapy.")
    bad = tmp_path / "notes.exe"
    bad.write_bytes(b"MZ")
    acme.get_by_label("Supporting documents").set_input_files([DOCUMENTS / "clinical_notes.pdf", bad])
    acme.get_by_role("button", name="Next").click()
    expect(acme.get_by_test_id("upload-errors")).to_contain_text(
        "notes.exe: files of type .exe are not accepted"
    )
    expect(acme.get_by_test_id("attached-files")).to_contain_text("clinical_notes.pdf")
    acme.get_by_role("button", name="Next").click()

    expect(acme.get_by_test_id("review")).to_contain_text("27447 x 1 units")
    acme.get_by_role("button", name="Submit request").click()
    expect(acme.get_by_test_id("auth-decision")).to_have_text("Approved")
    cert = acme.get_by_test_id("auth-certification-number")
    expect(cert).to_have_text(re.compile(r"^PA-\d{4}-\d{2}-\d{4}$"))
    ref = acme.get_by_test_id("auth-reference-number")
    expect(ref).to_have_text(re.compile(r"^CASE-\d{8}-\d{5}$"))
    expect(acme.get_by_test_id("auth-effective-date")).to_have_text(us(date.today() + timedelta(days=14)))
    expect(acme.get_by_test_id("auth-expiration-date")).to_be_visible()

    [auth] = portal.submissions(payer="acme", kind="prior_auth")
    assert auth["identifiers"] == {
        "reference_number": ref.inner_text(),
        "certification_number": cert.inner_text(),
    }
    assert [f["name"] for f in auth["files"]] == ["clinical_notes.pdf"]
    assert auth["fields"]["procedures"] == [{"procedure_code": "27447", "units": 1, "unit_type": "units"}]
    assert auth["fields"]["clinical_notes"] == "Failed 12 weeks of physical therapy."


def test_pended_auth_is_decided_on_a_later_lookup(acme: Page) -> None:
    acme.goto("/acme/auths/new")
    wizard_patient(acme, ("SYN100023", "Ivy", "Pendeddeny", "08/21/1993"))
    acme.get_by_role("button", name="Next").click()
    wizard_service(acme)
    acme.get_by_role("button", name="Next").click()
    acme.get_by_role("button", name="Next").click()
    acme.get_by_role("button", name="Submit request").click()
    expect(acme.get_by_test_id("auth-decision")).to_have_text("Pended for clinical review")
    expect(acme.get_by_test_id("auth-certification-number")).to_have_count(0)
    reference = acme.get_by_test_id("auth-reference-number").inner_text()

    acme.get_by_role("link", name="Authorization Lookup", exact=True).click()
    acme.get_by_label("Member ID").fill("SYN100023")
    acme.get_by_role("button", name="Find authorizations").click()
    acme.get_by_test_id("auth-results").get_by_role("link", name=reference).click()
    expect(acme.get_by_test_id("auth-decision")).to_have_text("Pended for clinical review")
    acme.get_by_role("link", name="Refresh status").click()
    expect(acme.get_by_test_id("auth-decision")).to_have_text("Denied")
    expect(acme.get_by_test_id("auth-denial-reason")).to_contain_text("Not medically necessary")
