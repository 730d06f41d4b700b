"""Every hazard of a real payer portal, switched on through the admin API and met in Chromium."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.mock_portal.portal_flows import acme_sign_in
from tests.support.portal_server import MockPortalAdmin

DOCUMENTS = Path(__file__).resolve().parents[3] / "fixtures" / "documents"


def test_idle_warning_countdown_then_hard_logout(page: Page, portal: MockPortalAdmin) -> None:
    portal.set_knobs(idle_timeout_seconds=4, idle_warning_seconds=2)
    acme_sign_in(page, portal)
    modal = page.get_by_role("alertdialog", name="Are you still there?")
    expect(modal).to_be_visible(timeout=5_000)
    expect(page.get_by_test_id("idle-countdown")).to_have_text(re.compile(r"^[0-2]$"))
    modal.get_by_role("button", name="Stay signed in").click()
    expect(modal).to_be_hidden()
    expect(modal).to_be_visible(timeout=5_000)  # warned again after another quiet spell
    expect(page).to_have_url(re.compile(r"/acme/login\?reason=idle$"), timeout=6_000)
    expect(page.get_by_test_id("signed-out-reason")).to_have_text(
        "You were signed out after a period of inactivity."
    )
    page.goto("/acme/home")
    expect(page).to_have_url(re.compile(r"/acme/login$"))


def test_server_side_idle_timeout_by_clock(acme: Page, portal: MockPortalAdmin) -> None:
    portal.advance_clock(16 * 60)
    acme.get_by_role("link", name="Claim Status", exact=True).click()
    expect(acme.get_by_role("heading", name="Sign in to Acme Health")).to_be_visible()
    expect(acme.get_by_test_id("signed-out-reason")).to_contain_text("inactivity")


def test_absolute_session_lifetime(acme: Page, portal: MockPortalAdmin) -> None:
    portal.set_knobs(session_lifetime_seconds=120)
    for _ in range(2):  # active all along: only the absolute lifetime can end the session
        portal.advance_clock(50)
        acme.reload()
        expect(acme.get_by_test_id("signed-in-user")).to_be_visible()
    portal.advance_clock(50)
    acme.reload()
    expect(acme.get_by_test_id("signed-out-reason")).to_have_text(
        "Your session has ended. Please sign in again."
    )


def test_lockout_after_five_bad_passwords(page: Page, portal: MockPortalAdmin) -> None:
    page.goto("/acme/login")
    for attempt in range(5):
        page.get_by_label("Username").fill("acme.biller")
        page.get_by_label("Password").fill(f"wrong-{attempt}")
        page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("login-error")).to_contain_text("has been locked")
    page.get_by_label("Password").fill(portal.user("acme")["password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("login-error")).to_contain_text("has been locked")
    assert portal.user("acme")["locked"] is True


def test_drifting_ids_and_classes_keep_labels_roles_and_test_ids(acme: Page, portal: MockPortalAdmin) -> None:
    portal.set_knobs(drift_seed=42)
    ids, classes = [], []
    for _ in range(2):
        acme.goto("/acme/eligibility")
        member = acme.get_by_label("Member ID")
        ids.append(member.get_attribute("id"))
        classes.append(acme.get_by_role("button", name="Check eligibility").get_attribute("class"))
    assert ids[0] != ids[1] and all(i and i.startswith(":r") for i in ids)
    assert classes[0] != classes[1]
    expect(acme.locator("#member-id")).to_have_count(0)  # yesterday's selector is gone
    acme.get_by_label("Member ID").fill("SYN100001")
    acme.get_by_label("Patient first name").fill("Ada")
    acme.get_by_label("Patient last name").fill("Testmember")
    acme.get_by_label("Date of birth").press_sequentially("04121980")
    acme.get_by_label("Provider NPI").fill("2000000002")
    acme.get_by_role("button", name="Check eligibility").click()
    expect(acme.get_by_test_id("coverage-status")).to_have_text("Active")


def test_masked_date_input_ignores_paste_style_fill(acme: Page, portal: MockPortalAdmin) -> None:
    acme.goto("/acme/eligibility")
    dob = acme.get_by_label("Date of birth")
    dob.fill("04/12/1980")
    expect(dob).to_have_value("")
    acme.get_by_label("Member ID").fill("SYN100001")
    acme.get_by_role("button", name="Check eligibility").click()
    expect(acme.get_by_test_id("error-summary")).to_contain_text("Enter the date of birth.")

    dob = acme.get_by_label("Date of birth")
    dob.press_sequentially("04121980")
    expect(dob).to_have_value("04/12/1980")
    dob.press("Backspace")
    expect(dob).to_have_value("04/12/198")

    portal.set_knobs(masked_date_input=False)
    acme.goto("/acme/eligibility")
    acme.get_by_label("Date of birth").fill("04/12/1980")
    expect(acme.get_by_label("Date of birth")).to_have_value("04/12/1980")


def test_upload_limits_refuse_files_one_by_one(acme: Page, portal: MockPortalAdmin, tmp_path: Path) -> None:
    portal.set_knobs(upload_max_files=2, upload_max_file_bytes=1600)
    big = tmp_path / "scan.pdf"
    big.write_bytes(b"%PDF-1.4\n" + b"0" * 4000)
    archive = tmp_path / "records.zip"
    archive.write_bytes(b"PK\x03\x04")
    acme.goto("/acme/appeals/new?claim_number=2600100000101")
    acme.get_by_label("Reason for appeal").select_option("medical_necessity")
    acme.get_by_label("Explain why the claim should be reconsidered").fill("Notes attached for review.")
    acme.get_by_label("Contact name").fill("Avery Billingclerk")
    acme.get_by_label("Contact phone").fill("5550101234")
    acme.get_by_label("Supporting documents").set_input_files(
        [
            DOCUMENTS / "appeal_letter.pdf",
            big,
            archive,
            DOCUMENTS / "medical_records.pdf",
            DOCUMENTS / "clinical_notes.pdf",
        ]
    )
    acme.get_by_role("button", name="Submit appeal").click()
    errors = acme.get_by_test_id("upload-errors").get_by_role("listitem")
    expect(errors).to_have_text(
        [
            "scan.pdf: the file is larger than 1 KB.",
            re.compile(r"^records\.zip: files of type \.zip are not accepted"),
            "clinical_notes.pdf: you can attach at most 2 files.",
        ]
    )
    expect(acme.get_by_test_id("error-summary")).to_be_visible()
    assert portal.submissions(kind="appeal") == []


def test_maintenance_page(page: Page, portal: MockPortalAdmin) -> None:
    portal.set_knobs(maintenance=True)
    response = page.goto("/beacon/login")
    assert response is not None and response.status == 503 and response.headers["retry-after"] == "3600"
    expect(page.get_by_test_id("maintenance")).to_have_text(
        "Beacon Exchange is down for scheduled maintenance"
    )


def test_random_server_errors(page: Page, portal: MockPortalAdmin) -> None:
    portal.set_knobs(error_rate=1.0)
    response = page.goto("/acme/login")
    assert response is not None and response.status == 500
    expect(page.get_by_test_id("server-error")).to_be_visible()
    portal.set_knobs(error_rate=0.0)
    assert (page.reload() or response).status == 200


def test_added_latency(page: Page, portal: MockPortalAdmin) -> None:
    portal.set_knobs(latency_ms=400)
    started = time.monotonic()
    page.goto("/acme/login")
    assert time.monotonic() - started >= 0.4


def test_rate_limit_page(page: Page, portal: MockPortalAdmin) -> None:
    portal.set_knobs(rate_limit_per_minute=3)  # static files do not count
    statuses = [(page.goto("/acme/login") or pytest.fail("no response")).status for _ in range(4)]
    assert statuses[:3] == [200, 200, 200] and statuses[3] == 429
    expect(page.get_by_test_id("rate-limited")).to_have_text("Too many requests")


def test_captcha_after_suspicious_sign_ins(page: Page, portal: MockPortalAdmin) -> None:
    portal.set_knobs(captcha="suspicious")
    page.goto("/acme/login")
    for _ in range(2):
        page.get_by_label("Username").fill("acme.biller")
        page.get_by_label("Password").fill("not-it")
        page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Username").fill("acme.biller")
    page.get_by_label("Password").fill(portal.user("acme")["password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("captcha")).to_have_text("Verify you are human")
    page.get_by_label("I'm not a robot").check()
    page.get_by_role("button", name="Verify").click()
    acme_sign_in(page, portal)


def test_acme_banner_informs_without_alerting(acme: Page) -> None:
    expect(acme.get_by_test_id("info-banner")).to_have_attribute("role", "status")
    expect(acme.get_by_test_id("info-banner")).to_contain_text("Scheduled maintenance")
    expect(acme.get_by_role("alert")).to_have_count(0)


def test_beacon_banner_can_be_dismissed(beacon: Page, portal: MockPortalAdmin) -> None:
    notice = beacon.get_by_role("status").filter(has_text="claim status updates")
    expect(notice).to_be_visible()
    expect(beacon.get_by_role("alert")).to_have_count(0)
    beacon.get_by_role("button", name="Dismiss announcement").click()
    expect(notice).to_have_count(0)
    portal.set_knobs(banners=False)
    beacon.reload()
    expect(beacon.get_by_test_id("bx-info-banner")).to_have_count(0)
