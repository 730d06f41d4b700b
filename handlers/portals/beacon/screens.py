"""Beacon Exchange page objects for what surrounds the work: log-in, passcode, the security
acknowledgement, the organization/provider picker, the dashboard shell (idle modal, context bar)
and the workspace whose iframe holds every workflow."""

from __future__ import annotations

import re

from playwright.async_api import FrameLocator, Locator, Page

from handlers.portals.common.hazards import Hazard
from handlers.portals.common.idle import IdleModal


def hazards(root: Page | FrameLocator) -> dict[str, Locator]:
    """Error pages and the log-in page, in the top page or inside the workspace iframe."""
    return {
        Hazard.MAINTENANCE: root.get_by_test_id("maintenance"),
        Hazard.RATE_LIMITED: root.get_by_test_id("rate-limited"),
        Hazard.SERVER_ERROR: root.get_by_test_id("server-error"),
        Hazard.CAPTCHA: root.get_by_test_id("captcha"),
        Hazard.SIGNED_OUT: LoginPage(root).heading,
    }


class Shell:
    """The signed-in frame around every page: user, context bar, idle modal, workspace."""

    # CSS, not a locator: a script in the page answers it (common.idle). Its test id, and the
    # attribute the exchange's own idle script binds "Continue Session" to; both survive the drift.
    idle_modal = IdleModal(
        modal='[role="alertdialog"][data-testid="idle-modal"]',
        stay="button[data-idle-stay]",
        stay_name="Continue Session",
    )

    def __init__(self, page: Page) -> None:
        self.page = page
        self.user = page.get_by_test_id("bx-user")
        self.dashboard = page.get_by_role("heading", name="Dashboard", exact=True)
        self.context_bar = page.get_by_test_id("bx-context")
        self.change_context = self.context_bar.get_by_role("link", name="Change")
        # Every workflow runs in an iframe titled "<tool> workspace".
        self.workspace = page.get_by_title(re.compile(r" workspace$"))

    @property
    def frame(self) -> FrameLocator:
        return self.workspace.content_frame


class LoginPage:
    def __init__(self, root: Page | FrameLocator) -> None:
        self.heading = root.get_by_role("heading", name="Log in to Beacon Exchange")
        self.username = root.get_by_label("User ID")
        self.password = root.get_by_label("Password")
        self.submit = root.get_by_role("button", name="Log in")
        self.error = root.get_by_test_id("bx-login-error")

    async def sign_in(self, username: str, password: str) -> None:
        await self.username.fill(username)
        await self.password.fill(password)
        await self.submit.click()


class PasscodePage:
    def __init__(self, page: Page) -> None:
        self.heading = page.get_by_role("heading", name="Verify your identity")
        self.code = page.get_by_label("One-time passcode")
        # Not on Beacon today; real exchanges add it to this page.
        self.remember_device = page.get_by_label(re.compile(r"remember (this )?device", re.I))
        self.submit = page.get_by_role("button", name="Continue")
        self.error = page.get_by_test_id("bx-mfa-error")

    async def verify(self, code: str) -> None:
        await self.code.fill(code)
        if await self.remember_device.count():
            await self.remember_device.check()
        await self.submit.click()


class SecurityNotice:
    """The periodic "I have read and agree" interstitial after log-in."""

    def __init__(self, page: Page) -> None:
        self.heading = page.get_by_role("heading", name="Security Acknowledgement")
        self.agree = page.get_by_label("I have read and agree to the security terms")
        self.submit = page.get_by_role("button", name="Acknowledge and continue")

    async def acknowledge(self) -> None:
        await self.agree.check()
        await self.submit.click()


class ContextPicker:
    """Organization (TIN) and provider (NPI) the session acts for."""

    def __init__(self, page: Page) -> None:
        self.heading = page.get_by_role("heading", name="Choose your organization and provider")
        self.organization = page.get_by_label("Organization")
        self.provider = page.get_by_label("Provider")
        self.submit = page.get_by_role("button", name="Continue")
        self.errors = page.get_by_test_id("bx-error-summary")

    def provider_option(self, npi: str) -> Locator:
        return self.provider.get_by_role("option", name=re.compile(rf"\bNPI {re.escape(npi)}\b"))

    def organization_option(self, name: str) -> Locator:
        return self.organization.get_by_role("option", name=re.compile(rf"^{re.escape(name)} \(TIN"))
