"""Status lookups in Chromium on both payers, driven by the labels and test ids mock_portal/README.md
documents for the status page objects: search, detail, and the PDF downloads (Beacon's from inside
its iframe)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect
from pypdf import PdfReader

from tests.e2e.mock_portal.test_portal_e2e_beacon import workspace
from tests.support.portal_server import MockPortalAdmin


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def test_acme_claim_status_by_number_and_its_eob(acme: Page, portal: MockPortalAdmin) -> None:
    acme.get_by_role("navigation").get_by_role("link", name="Claim Status").click()
    expect(acme.get_by_role("heading", name="Claim status")).to_be_visible()
    acme.get_by_label("Claim number").fill("2600100000102")
    acme.get_by_role("button", name="Search claims").click()
    expect(acme.get_by_test_id("claim-row")).to_have_count(1)
    acme.get_by_role("link", name="2600100000102").click()
    expect(acme.get_by_test_id("claim-status-category")).to_have_text("F1 - Finalized/Payment")
    expect(acme.get_by_test_id("payment-method")).to_have_text("Check")
    check = acme.get_by_test_id("payment-number").inner_text()
    expect(acme.get_by_test_id("adjustment-row").get_by_role("cell").first).to_have_text("CO-45")
    with acme.expect_download() as download:
        acme.get_by_role("link", name="Download EOB (PDF)").click()
    assert download.value.suggested_filename == "acme-eob-2600100000102.pdf"
    text = pdf_text(Path(download.value.path()))
    assert "2600100000102" in text and check in text
    assert [(lk["page"], lk["key"], lk["category"]) for lk in portal.lookups(payer="acme")] == [
        ("search", "claim_number", "finalized_paid"),
        ("detail", "claim_number", "finalized_paid"),
    ]
    assert [d["kind"] for d in portal.documents(payer="acme")] == ["eob"]


def test_acme_member_search_finds_nothing_for_another_provider(acme: Page, portal: MockPortalAdmin) -> None:
    acme.goto("/acme/claims/status")
    acme.get_by_label("Member ID").fill("SYN100030")
    acme.get_by_label("Billing provider NPI").fill("2999999990")
    acme.get_by_role("button", name="Search claims").click()
    expect(acme.get_by_test_id("no-results")).to_be_visible()
    assert portal.lookups()[-1]["category"] == "not_found"


def test_beacon_denied_claim_and_remittance_in_iframe(beacon: Page, portal: MockPortalAdmin) -> None:
    frame = workspace(beacon, "Claim Status")
    expect(frame.get_by_role("heading", name="Claim Status Inquiry")).to_be_visible()
    frame.get_by_label("Patient Member ID").fill("SYN100030")
    frame.get_by_label("Billing Provider NPI").fill("2000000002")
    frame.get_by_role("button", name="Search").click()
    expect(frame.get_by_test_id("bx-claim-row")).to_have_count(3)
    frame.get_by_role("link", name="View claim BX26A0000101").click()
    expect(frame.get_by_test_id("bx-claim-status-category")).to_have_text("F2 - Finalized/Denial")
    expect(frame.get_by_test_id("bx-paid-amount")).to_have_text("$0.00")
    expect(frame.get_by_test_id("bx-adjustment-row").get_by_role("cell").first).to_have_text("CO-16")
    with beacon.expect_download() as download:
        frame.get_by_role("link", name="Download Remittance Advice (PDF)").click()
    text = pdf_text(Path(download.value.path()))
    assert "BX26A0000101" in text and "CO-16" in text
    assert [(lk["page"], lk["key"], lk["found"]) for lk in portal.lookups(payer="beacon")] == [
        ("search", "member", 3),
        ("detail", "claim_number", 1),
    ]
