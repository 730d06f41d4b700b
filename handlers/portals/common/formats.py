"""Converting between the task's typed values and what portals show or accept."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import pyotp


def us_date(iso: str) -> str:
    """2026-04-12 -> 04/12/2026 (the MM/DD/YYYY most US portals use)."""
    return date.fromisoformat(iso).strftime("%m/%d/%Y")


def iso_from_us(text: str) -> str | None:
    try:
        return datetime.strptime(text.strip(), "%m/%d/%Y").date().isoformat()
    except ValueError:
        return None


# How the portals print the time of a confirmation (all UTC); the first that parses wins.
_PORTAL_TIMES = ("%m/%d/%Y %I:%M:%S %p UTC", "%b %d, %Y at %H:%M UTC", "%m/%d/%Y %H:%M UTC")
_PORTAL_DATES = ("%m/%d/%Y", "%b %d, %Y")


def confirmation_time(text: str | None) -> dict[str, str | None]:
    """The result keys of a confirmation's time: `confirmed_at` in ISO 8601 UTC (as every time of the
    API: "2026-12-04T13:26:48.000Z"; a bare date when the portal shows only the day) and the portal's
    own text in `confirmed_at_text`."""
    shown = " ".join((text or "").split()) or None
    return {"confirmed_at": _iso_time(shown) if shown else None, "confirmed_at_text": shown}


def _iso_time(text: str) -> str | None:
    for pattern in _PORTAL_TIMES:
        try:
            moment = datetime.strptime(text, pattern)
        except ValueError:
            continue
        return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    for pattern in _PORTAL_DATES:
        try:
            return datetime.strptime(text, pattern).date().isoformat()
        except ValueError:
            continue
    return None


def money(text: str) -> str | None:
    """ "$1,234.50" -> "1234.50"; None when the text is not an amount."""
    try:
        amount = Decimal(text.replace("$", "").replace(",", "").strip())
    except InvalidOperation:
        return None
    return f"{amount:.2f}" if amount.is_finite() else None


def percent(text: str) -> int | None:
    found = re.search(r"(\d+)\s*%", text)
    return int(found.group(1)) if found else None


def digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def totp_code(secret: str) -> str:
    """The current 6-digit authenticator code for a stored TOTP secret."""
    return pyotp.TOTP(secret.replace(" ", "").upper()).now()


def appeal_reason(category: str, offered: set[str]) -> str:
    """The portal's reason option for the task's category ("other" when the portal has no such)."""
    return category if category in offered else "other"
