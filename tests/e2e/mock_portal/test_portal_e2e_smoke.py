"""The portal serves both payers and a person can sign in to each."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.support.portal_server import MockPortalAdmin


def test_index_lists_both_payers(page: Page, portal: MockPortalAdmin) -> None:
    response = page.goto(portal.base_url)
    assert response is not None and response.headers["x-mock-portal"] == "1"
    expect(page.get_by_role("link", name="Acme Health")).to_have_attribute("href", "/acme/login")
    expect(page.get_by_role("link", name="Beacon Exchange")).to_have_attribute("href", "/beacon/login")


def test_sign_in_to_acme(acme: Page) -> None:
    expect(acme.get_by_test_id("signed-in-user")).to_have_text("Avery Billingclerk")


def test_sign_in_to_beacon(beacon: Page) -> None:
    expect(beacon.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(beacon.get_by_test_id("bx-context")).to_contain_text("Maple Street Synthetic Family Practice")
