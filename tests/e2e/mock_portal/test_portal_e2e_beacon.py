"""Beacon Exchange in Chromium: security acknowledgement, provider context, payer typeahead,
workflows inside an iframe, pended results, soft duplicate warning, disputes without numbers."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

from playwright.sync_api import FrameLocator, Page, expect

from tests.e2e.mock_portal.portal_flows import beacon_choose_context, beacon_sign_in
from tests.support.portal_server import MockPortalAdmin

DOCUMENTS = Path(__file__).resolve().parents[3] / "fixtures" / "documents"


def workspace(page: Page, link: str) -> FrameLocator:
    """Open a workflow and return its iframe, once loaded (a page's load waits for its iframes).

    The wait is for the navigation this click starts: when the page already shows a workspace
    (the same one, opened again for a fresh form), waiting for its URL or its load state returns at
    once, and the test then typed into the old form while the new page replaced it.
    """
    with page.expect_navigation(url=re.compile(r"/beacon/workspace/"), wait_until="load"):
        page.get_by_role("navigation", name="Workflows").get_by_role("link", name=link, exact=True).click()
    return page.frame_locator(f'iframe[title="{link} workspace"]')


def choose_payer(frame: FrameLocator, typed: str, name: str) -> None:
    frame.get_by_role("combobox", name="Payer").fill(typed)
    frame.get_by_role("option", name=name, exact=True).click()
    expect(frame.get_by_role("combobox", name="Payer")).to_have_value(name)


def patient(frame: FrameLocator, member_id: str, first: str, last: str, dob: str) -> None:
    frame.get_by_label("Patient Member ID").fill(member_id)
    frame.get_by_label("Patient First Name").fill(first)
    frame.get_by_label("Patient Last Name").fill(last)
    frame.get_by_label("Patient Date of Birth").fill(dob)


def test_acknowledgement_and_context_picker(page: Page, portal: MockPortalAdmin) -> None:
    beacon_sign_in(page, portal, acknowledge=False)
    expect(page.get_by_role("heading", name="Security Acknowledgement")).to_be_visible()
    page.get_by_role("button", name="Acknowledge and continue").click()
    expect(page.get_by_role("alert")).to_contain_text("must agree")
    page.get_by_label("I have read and agree to the security terms").check()
    page.get_by_role("button", name="Acknowledge and continue").click()

    expect(page.get_by_role("heading", name="Choose your organization and provider")).to_be_visible()
    page.get_by_label("Organization").select_option(
        label="Maple Street Synthetic Family Practice (TIN 12-3456789)"
    )
    page.get_by_label("Provider").select_option("2123456784")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_test_id("bx-error-summary")).to_contain_text("not part of this organization")
    beacon_choose_context(page, "452345678", "2123456784")
    expect(page.get_by_test_id("bx-context")).to_contain_text("TIN 45-2345678")

    page.get_by_role("link", name="Log out").click()
    beacon_sign_in(page, portal, acknowledge=False)
    expect(page.get_by_role("heading", name="Choose your organization and provider")).to_be_visible()
    page.goto("/beacon/logout")
    portal.advance_clock(15 * 86_400)
    beacon_sign_in(page, portal, acknowledge=False)
    expect(page.get_by_role("heading", name="Security Acknowledgement")).to_be_visible()


def test_eligibility_in_iframe_with_keyboard_typeahead(beacon: Page, portal: MockPortalAdmin) -> None:
    frame = workspace(beacon, "Eligibility and Benefits")
    patient(frame, "SYN100001", "Ada", "Testmember", "1980-04-12")
    frame.get_by_role("button", name="Submit inquiry").click()
    expect(frame.get_by_test_id("bx-error-summary")).to_contain_text("Select a payer from the list.")

    combo = frame.get_by_role("combobox", name="Payer")
    combo.fill("blue")
    expect(frame.get_by_role("listbox", name="Payers").get_by_role("option")).to_have_count(2)
    expect(combo).to_have_attribute("aria-expanded", "true")
    combo.press("ArrowDown")
    combo.press("ArrowDown")
    expect(frame.get_by_role("option", name="Blue Coast Synthetic Insurance")).to_have_attribute(
        "aria-selected", "true"
    )
    combo.press("Enter")
    expect(combo).to_have_value("Blue Coast Synthetic Insurance")
    expect(combo).to_have_attribute("aria-expanded", "false")
    frame.get_by_role("button", name="Submit inquiry").click()

    expect(frame.get_by_test_id("bx-coverage-status")).to_have_text("Active Coverage")
    expect(frame.get_by_test_id("bx-payer")).to_have_text("Blue Coast Synthetic Insurance")
    expect(frame.get_by_test_id("bx-copay")).to_have_text("$25.00")
    expect(frame.get_by_test_id("bx-control-number")).to_have_text(re.compile(r"^\d{9}$"))
    [inquiry] = portal.submissions(payer="beacon", kind="eligibility")
    assert inquiry["fields"]["payer_id"] == "BLUCS" and inquiry["fields"]["provider_npi"] == "2000000002"
    assert inquiry["fields"]["date_of_birth"] == "1980-04-12" and inquiry["outcome"] == "active"


def fill_beacon_claim(frame: FrameLocator, extra_line: bool) -> None:
    choose_payer(frame, "acme", "Acme Health")
    patient(frame, "SYN100001", "Ada", "Testmember", "1980-04-12")
    expect(frame.get_by_label("Billing NPI")).to_have_value("2000000002")
    frame.get_by_label("Diagnosis 1 (A)").fill("I10")
    day = (date.today() - timedelta(days=2)).isoformat()
    lines = [("99213", "", "100.00"), ("93000", "25", "40.00")] if extra_line else [("99213", "", "100.00")]
    for index, (code, modifier, charge) in enumerate(lines):
        if index:
            frame.get_by_role("button", name="Add service line").click()
        n = index + 1
        frame.get_by_label(f"Line {n} Service Date").fill(day)
        frame.get_by_label(f"Line {n} Place of Service").select_option("11")
        frame.get_by_label(f"Line {n} Procedure Code").fill(code)
        frame.get_by_label(f"Line {n} Modifiers").fill(modifier)
        frame.get_by_label(f"Line {n} Units").fill("1")
        frame.get_by_label(f"Line {n} Charges").fill(charge)
        frame.get_by_label(f"Line {n} Diagnosis Pointer").fill("A")


def test_claim_lines_status_polls_and_soft_duplicate(beacon: Page, portal: MockPortalAdmin) -> None:
    frame = workspace(beacon, "Claims")
    fill_beacon_claim(frame, extra_line=True)
    frame.get_by_role("button", name="Add service line").click()
    expect(frame.get_by_test_id("bx-service-line")).to_have_count(3)
    frame.get_by_role("button", name="Remove line 2").click()
    expect(frame.get_by_label("Line 2 Procedure Code")).to_have_value("")
    frame.get_by_role("button", name="Remove line 2").click()
    frame.get_by_role("button", name="Add service line").click()
    frame.get_by_label("Line 2 Service Date").fill((date.today() - timedelta(days=2)).isoformat())
    frame.get_by_label("Line 2 Place of Service").select_option("11")
    for label, value in [
        ("Procedure Code", "93000"),
        ("Modifiers", "25"),
        ("Units", "1"),
        ("Charges", "40.00"),
    ]:
        frame.get_by_label(f"Line 2 {label}").fill(value)
    frame.get_by_label("Line 2 Diagnosis Pointer").fill("A")
    frame.get_by_role("button", name="Submit claim").click()

    expect(frame.get_by_role("heading", name="Claim Acknowledged")).to_be_visible()
    claim_id = frame.get_by_test_id("bx-claim-id").inner_text()
    assert re.fullmatch(r"BX\d{2}[A-M]\d{7}", claim_id)
    expect(frame.get_by_test_id("bx-claim-status")).to_have_text("Acknowledged")
    expect(frame.get_by_test_id("bx-total-charge")).to_have_text("$140.00")
    frame.get_by_role("link", name="Check claim status").click()
    expect(frame.get_by_test_id("bx-claim-status")).to_have_text("In Process")
    frame.get_by_role("link", name="Refresh").click()
    expect(frame.get_by_test_id("bx-claim-status")).to_have_text("Finalized - Paid")
    expect(frame.get_by_test_id("bx-paid-amount")).to_have_text("$112.00")

    frame = workspace(beacon, "Claims")
    fill_beacon_claim(frame, extra_line=True)
    frame.get_by_role("button", name="Submit claim").click()
    warning = frame.get_by_test_id("bx-duplicate-warning")
    expect(warning).to_be_visible()
    expect(frame.get_by_test_id("bx-duplicate-of")).to_have_text(claim_id)
    assert len(portal.submissions(kind="claim")) == 1  # nothing sent until the user confirms
    warning.get_by_role("button", name="Submit anyway").click()
    second_id = frame.get_by_test_id("bx-claim-id").inner_text()
    assert second_id != claim_id

    first, second = portal.submissions(payer="beacon", kind="claim")
    assert first["duplicate"] is False and second["duplicate"] is True and second["duplicate_of"] == claim_id
    assert second["identifiers"] == {"claim_number": second_id}
    assert [line["procedure_code"] for line in second["fields"]["service_lines"]] == ["99213", "93000"]
    assert (
        second["fields"]["service_lines"][1]["modifiers"] == ["25"]
        and second["fields"]["payer_id"] == "ACMEH"
    )


def test_auth_with_attachment_is_pended_then_certified(beacon: Page, portal: MockPortalAdmin) -> None:
    frame = workspace(beacon, "Authorizations")
    choose_payer(frame, "cedar", "Cedar Mutual Health")
    patient(frame, "SYN100001", "Ada", "Testmember", "1980-04-12")
    expect(frame.get_by_label("Requesting Provider NPI")).to_have_value("2000000002")
    frame.get_by_label("Servicing Provider NPI").fill("2123456784")
    frame.get_by_label("Primary Diagnosis").fill("M17.11")
    frame.get_by_label("Procedure 1 Code").fill("27447")
    frame.get_by_label("Procedure 1 Units").fill("1")
    start = date.today() + timedelta(days=10)
    frame.get_by_label("From Date").fill(start.isoformat())
    frame.get_by_label("To Date").fill((start + timedelta(days=30)).isoformat())
    frame.get_by_label("Place of Service").select_option("22")
    frame.get_by_label("Attachments").set_input_files(DOCUMENTS / "clinical_notes.pdf")
    frame.get_by_role("button", name="Submit authorization request").click()

    expect(frame.get_by_test_id("bx-auth-status")).to_have_text("Pended - In Review")
    case = frame.get_by_test_id("bx-auth-case-number").inner_text()
    assert re.fullmatch(r"\d{10}", case)
    expect(frame.get_by_test_id("bx-auth-documents")).to_have_text("clinical_notes.pdf")
    frame.get_by_role("link", name="Check status").click()
    expect(frame.get_by_test_id("bx-auth-status")).to_have_text("Pended - In Review")
    frame.get_by_role("link", name="Check status").click()
    expect(frame.get_by_test_id("bx-auth-status")).to_have_text("Certified in Total")
    expect(frame.get_by_test_id("bx-auth-certification-number")).to_have_text(re.compile(r"^BXA\d{9}$"))
    expect(frame.get_by_test_id("bx-auth-effective-date")).to_have_text(start.isoformat())

    frame = workspace(beacon, "Authorization Status")
    frame.get_by_label("Patient Member ID").fill("SYN100001")
    frame.get_by_role("button", name="Search").click()
    expect(frame.get_by_test_id("bx-auth-row")).to_contain_text("Certified in Total")
    [auth] = portal.submissions(payer="beacon", kind="prior_auth")
    assert auth["outcome"] == "pended" and auth["identifiers"] == {"reference_number": case}
    assert auth["fields"]["payer_id"] == "CEDAR" and [f["name"] for f in auth["files"]] == [
        "clinical_notes.pdf"
    ]


def test_dispute_gets_no_number_and_is_listed_by_claim(beacon: Page, portal: MockPortalAdmin) -> None:
    frame = workspace(beacon, "Claim Status")
    frame.get_by_label("Claim ID").fill("BX26A0000101")
    frame.get_by_role("button", name="Search").click()
    frame.get_by_role("link", name="View claim BX26A0000101").click()
    expect(frame.get_by_test_id("bx-claim-status")).to_have_text("Finalized - Denied")
    frame.get_by_role("link", name="Dispute this claim").click()
    expect(frame.get_by_label("Patient Member ID")).to_have_value("SYN100030")
    frame.get_by_label("Dispute Reason").select_option(label="Corrected coding")
    frame.get_by_label("Dispute Details").fill("Line 1 should carry modifier 59.")
    frame.get_by_label("Contact Name").fill("Casey Exchangeuser")
    frame.get_by_label("Contact Phone").fill("(555) 010-9876")
    frame.get_by_role("button", name="Submit dispute").click()

    expect(frame.get_by_role("heading", name="Dispute Submitted")).to_be_visible()
    expect(frame.get_by_test_id("bx-dispute-no-number")).to_be_visible()
    expect(frame.get_by_test_id("bx-dispute-claim-id")).to_have_text("BX26A0000101")
    frame.get_by_role("link", name="View disputes for this claim").click()
    expect(frame.get_by_test_id("bx-dispute-row")).to_have_count(1)
    [dispute] = portal.submissions(payer="beacon", kind="appeal")
    assert dispute["identifiers"] == {} and dispute["outcome"] == "filed"
    assert dispute["fields"]["contact_phone"] == "(555) 010-9876"

    frame = workspace(beacon, "Disputes")
    frame.get_by_role("link", name="Start a new dispute").click()
    # The list has a "Claim ID" filter too: type only once the form has replaced it.
    expect(frame.get_by_role("heading", name="Claim Dispute")).to_be_visible()
    frame.get_by_label("Claim ID").fill("BX26A0000102")
    patient(frame, "SYN100030", "Kai", "Appealpatient", "1988-05-17")
    frame.get_by_label("Dispute Reason").select_option("other")
    frame.get_by_label("Dispute Details").fill("The paid amount looks wrong.")
    frame.get_by_label("Contact Name").fill("Casey Exchangeuser")
    frame.get_by_label("Contact Phone").fill("5550109876")
    frame.get_by_role("button", name="Submit dispute").click()
    expect(frame.get_by_test_id("bx-error-summary")).to_contain_text(
        "cannot be disputed (status: Finalized - Paid)"
    )
