"""Signed-in pages for the mock portal's e2e tests (hand-written Playwright, no handlers)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.e2e.mock_portal.portal_flows import acme_sign_in, beacon_choose_context, beacon_sign_in
from tests.support.portal_server import MockPortalAdmin


@pytest.fixture(autouse=True)
def _short_timeouts(page: Page) -> None:
    """Local pages answer in milliseconds: fail in 10 s rather than Playwright's default 30 s."""
    page.set_default_timeout(10_000)


@pytest.fixture
def acme(page: Page, portal: MockPortalAdmin) -> Page:
    """A page signed in to Acme Health, on its home page."""
    acme_sign_in(page, portal)
    return page


@pytest.fixture
def beacon(page: Page, portal: MockPortalAdmin) -> Page:
    """A page signed in to Beacon Exchange with a provider context, on the dashboard."""
    beacon_sign_in(page, portal)
    beacon_choose_context(page)
    return page
