"""E2E fixtures: one mock portal per session (admin API on), reset before each test that asks for
it, and pytest-playwright's browser launched from the system Chromium with quiet flags."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from handlers.browser import launch_options
from tests.support.portal_server import MockPortalAdmin, running_portal


@pytest.fixture(scope="session")
def portal_url() -> Iterator[str]:
    """Base URL of the mock portal, started in-process once per session with the admin API."""
    with running_portal(admin=True) as url:
        yield url


@pytest.fixture(scope="session")
def base_url(portal_url: str) -> str:
    """pytest-playwright's base URL is the mock portal, so `page.goto("/acme/login")` works.

    Overriding it also replaces pytest-base-url's own fixture, which pytest 9 flags as deprecated
    (a session fixture defined as an instance method) and our warnings-as-errors would fail on.
    """
    return portal_url


@pytest.fixture(scope="session")
def _portal_admin(portal_url: str) -> Iterator[MockPortalAdmin]:
    admin = MockPortalAdmin(portal_url)
    yield admin
    admin.close()


@pytest.fixture
def portal(_portal_admin: MockPortalAdmin) -> MockPortalAdmin:
    """The portal's admin API, after `POST /_mock/reset` (seeded data, default knobs)."""
    _portal_admin.reset()
    return _portal_admin


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Launch the Chromium that handlers.browser finds (Debian's), keeping --headed working."""
    headless = bool(browser_type_launch_args.get("headless", True))
    return {**browser_type_launch_args, **launch_options(headless=headless)}
