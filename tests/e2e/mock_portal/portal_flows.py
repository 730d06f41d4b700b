"""Sign-in flows shared by the mock portal's e2e tests (hand-written Playwright)."""

from __future__ import annotations

import pyotp
from playwright.sync_api import Page, expect

from tests.support.portal_server import MockPortalAdmin


def acme_sign_in(page: Page, portal: MockPortalAdmin) -> None:
    user = portal.user("acme")
    page.goto(f"{portal.base_url}/acme/login")
    page.get_by_label("Username").fill(user["username"])
    page.get_by_label("Password").fill(user["password"])
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Verification code").fill(pyotp.TOTP(user["totp_secret"]).now())
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name=f"Welcome, {user['display_name']}")).to_be_visible()


def beacon_sign_in(page: Page, portal: MockPortalAdmin, *, acknowledge: bool = True) -> None:
    user = portal.user("beacon")
    page.goto(f"{portal.base_url}/beacon/login")
    page.get_by_label("User ID").fill(user["username"])
    page.get_by_label("Password").fill(user["password"])
    page.get_by_role("button", name="Log in").click()
    page.get_by_label("One-time passcode").fill(pyotp.TOTP(user["totp_secret"]).now())
    page.get_by_role("button", name="Continue").click()
    if acknowledge:
        page.get_by_label("I have read and agree to the security terms").check()
        page.get_by_role("button", name="Acknowledge and continue").click()


def beacon_choose_context(page: Page, tax_id: str = "123456789", npi: str = "2000000002") -> None:
    page.get_by_label("Organization").select_option(tax_id)
    page.get_by_label("Provider").select_option(npi)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_test_id("bx-context")).to_contain_text(f"NPI {npi}")
