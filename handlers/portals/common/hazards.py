"""What a portal throws at automation, as step errors: maintenance, rate limits, server errors,
CAPTCHAs and an ended session. Each portal's page objects say how to recognise them; this says
what each one means for the task."""

from __future__ import annotations

from enum import StrEnum
from typing import NoReturn

from playwright.async_api import Page

from handlers.errors import NeedsReview, PortalUnavailable, SessionExpired, Transient
from handlers.portals.common.watch import last_document

RATE_LIMIT_PAUSE_SECONDS = 60.0


class Hazard(StrEnum):
    MAINTENANCE = "maintenance"
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    CAPTCHA = "captcha"
    SIGNED_OUT = "signed_out"


def raise_hazard(hazard: Hazard, *, portal: str, page: Page) -> NoReturn:
    retry_after = last_document(page).retry_after
    if hazard is Hazard.MAINTENANCE:
        raise PortalUnavailable(f"The {portal} portal is down for maintenance.", retry_after=retry_after)
    if hazard is Hazard.RATE_LIMITED:
        raise Transient(
            f"The {portal} portal is limiting requests (too many requests).",
            retry_after=retry_after or RATE_LIMIT_PAUSE_SECONDS,
        )
    if hazard is Hazard.SERVER_ERROR:
        raise PortalUnavailable(f"The {portal} portal answered with a server error.", retry_after=retry_after)
    if hazard is Hazard.CAPTCHA:
        raise NeedsReview(
            f"The {portal} portal asks to prove a human is there (a CAPTCHA). A person must solve it "
            "in the portal, then approve the task to continue."
        )
    raise SessionExpired(f"The {portal} session ended in the middle of the task; it will sign in again.")
