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
