"""Acme Health page objects for what surrounds the work: sign-in, two-step verification, the
signed-in chrome (idle modal, user name) and the error pages a request can end on."""

from __future__ import annotations

import re

from playwright.async_api import Locator, Page

from handlers.portals.common.hazards import Hazard
from handlers.portals.common.idle import IdleModal


class Chrome:
    """Parts every Acme page may show."""

    # CSS, not a locator: a script in the page answers it (common.idle). Its test id, and the
    # attribute the portal's own idle script binds "Stay signed in" to; both survive the drift.
    idle_modal = IdleModal(
        modal='[role="alertdialog"][data-testid="idle-modal"]',
        stay="button[data-idle-stay]",
        stay_name="Stay signed in",
    )

    def __init__(self, page: Page) -> None:
        self.page = page
        self.signed_in_user = page.get_by_test_id("signed-in-user")

    def hazards(self) -> dict[str, Locator]:
        page = self.page
        return {
            Hazard.MAINTENANCE: page.get_by_test_id("maintenance"),
            Hazard.RATE_LIMITED: page.get_by_test_id("rate-limited"),
            Hazard.SERVER_ERROR: page.get_by_test_id("server-error"),
            Hazard.CAPTCHA: page.get_by_test_id("captcha"),
            Hazard.SIGNED_OUT: LoginPage(page).heading,
        }


class LoginPage:
    def __init__(self, page: Page) -> None:
        self.heading = page.get_by_role("heading", name="Sign in to Acme Health")
        self.username = page.get_by_label("Username")
        self.password = page.get_by_label("Password", exact=True)
        self.submit = page.get_by_role("button", name="Sign in")
        self.error = page.get_by_test_id("login-error")

    async def sign_in(self, username: str, password: str) -> None:
        await self.username.fill(username)
        await self.password.fill(password)
        await self.submit.click()


class VerificationPage:
    def __init__(self, page: Page) -> None:
        self.heading = page.get_by_role("heading", name="Two-step verification")
        self.code = page.get_by_label("Verification code")
        # Not on Acme today; real portals add it to this page and the mock may follow.
        self.remember_device = page.get_by_label(re.compile(r"remember (this )?device", re.I))
        self.submit = page.get_by_role("button", name="Verify")
        self.error = page.get_by_test_id("mfa-error")

    async def verify(self, code: str) -> None:
        await self.code.fill(code)
        if await self.remember_device.count():
            await self.remember_device.check()
        await self.submit.click()


class NotFoundPage:
    def __init__(self, page: Page) -> None:
        self.message = page.get_by_test_id("not-found")
