"""Reading raw values (strings from free text, or JSON scalars) into typed values.

Each reader takes what the client sent and returns a normalised value, or raises `ValueError`
whose text is a plain-words reason a billing clerk can act on ("is not a date: use YYYY-MM-DD or
MM/DD/YYYY"). The input models attach these readers to their fields.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_TEXT = 200  # one-line values (names, ids, payer)
MAX_LONG_TEXT = 10_000  # clinical notes, appeal reasons
MAX_CHARGE = Decimal("9999999.99")
MAX_UNITS = 9999

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_US = re.compile(r"^(\d{1,2})[/-](\d{1,2})[/-](\d{4})$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_TWO_DIGIT_YEAR = re.compile(r"^\d{1,2}[/-]\d{1,2}[/-]\d{2}$")
_MONEY = re.compile(r"^\$?\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$")
_WHOLE = re.compile(r"^\d{1,6}(?:\.0*)?$")


def shorten(value: Any, limit: int = 40) -> str:
    """A value quoted in a message: short, one line."""
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def single(value: Any) -> Any:
    """Refuse a list where one value is expected (the key was given twice with different values)."""
    if isinstance(value, list):
        shown = ", ".join(shorten(item, 20) for item in value[:4])
        raise ValueError(f"was given more than once with different values ({shown}); give one")
    if isinstance(value, dict):
        raise ValueError("must be a single value, not a group of values")
    return value


def text(value: Any, *, max_length: int = MAX_TEXT, multiline: bool = False) -> str:
    """A printable string, whitespace-trimmed; numbers are accepted as their digits."""
    value = single(value)
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError("must be text")
    result = str(value).strip()
    if multiline:
        result = "\n".join(line.strip() for line in result.splitlines())
    if len(result) > max_length:
        raise ValueError(f"is too long ({len(result):,} characters; at most {max_length:,})")
    allowed = result.replace("\n", "").replace("\t", "") if multiline else result
    if not allowed.isprintable():
        raise ValueError("contains characters that cannot be printed (control or invisible characters)")
    return result


def parse_date(value: Any) -> date:
    """ISO `YYYY-MM-DD`, US `MM/DD/YYYY` (or `MM-DD-YYYY`) or compact `YYYYMMDD`."""
    if isinstance(value, date):
        return value
    raw = text(value)
    for pattern, order in ((_ISO, "ymd"), (_US, "mdy"), (_COMPACT, "ymd")):
        match = pattern.match(raw)
        if match:
            parts = dict(zip(order, (int(group) for group in match.groups()), strict=True))
            try:
                return date(parts["y"], parts["m"], parts["d"])
            except ValueError:
                raise ValueError(f"{shorten(raw)} is not a real calendar date") from None
    if _TWO_DIGIT_YEAR.match(raw):
        raise ValueError(f"{shorten(raw)} has a two-digit year: write the year in full (MM/DD/YYYY)")
    raise ValueError(f"{shorten(raw)} is not a date: use YYYY-MM-DD or MM/DD/YYYY")


def parse_money(value: Any) -> Decimal:
    """`125`, `125.00`, `$1,250.00` or a JSON number -> Decimal with two places, more than zero."""
    value = single(value)
    if isinstance(value, bool):
        raise ValueError("must be an amount in dollars, like 125.00")
    if isinstance(value, int | float | Decimal):
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            raise ValueError("must be an amount in dollars, like 125.00") from None
        if not amount.is_finite():
            raise ValueError("must be an amount in dollars, like 125.00")
    else:
        match = _MONEY.match(text(value))
        if not match:
            raise ValueError(f"{shorten(value)} is not an amount in dollars, like 125.00 or $1,250.00")
        amount = Decimal(match.group(1).replace(",", "") + "." + (match.group(2) or "0"))
    if amount <= 0:
        raise ValueError("must be more than zero")
    if amount > MAX_CHARGE:
        raise ValueError(f"{shorten(value)} is larger than any charge this service accepts")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f"{shorten(value)} has fractions of a cent")
    return amount.quantize(Decimal("0.01"))


def parse_units(value: Any) -> int:
    """A whole number of units, at least 1 (`2`, `2.0` and JSON numbers accepted)."""
    value = single(value)
    if isinstance(value, bool):
        raise ValueError("must be a whole number")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and _WHOLE.match(value.strip()):
        value = int(value.strip().split(".")[0])
    if not isinstance(value, int):
        raise ValueError(f"{shorten(value)} is not a whole number of units")
    if value <= 0:
        raise ValueError("must be at least 1")
    if value > MAX_UNITS:
        raise ValueError(f"{value} is more units than this service accepts (at most {MAX_UNITS})")
    return value


def code_list(value: Any, *, separators: str = r"[,;\s/]+") -> list[str]:
    """A list of short codes from a list or a separated string, upper-cased, empties dropped."""
    items = value if isinstance(value, list) else [value]
    codes: list[str] = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, str | int):
            raise ValueError("must be a list of codes")
        codes.extend(part.upper() for part in re.split(separators, text(item)) if part)
    return codes
