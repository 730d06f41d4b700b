"""Identifiers the payers issue, each in its payer's realistic format, from per-reset counters.

Acme:   claim number 13 digits (YY + Julian day + 8-digit sequence), auth certification
        `PA-YYYY-MM-NNNN` + case reference `CASE-YYYYMMDD-NNNNN`, appeal tracking `APL-YYYY-NNNNNN`.
Beacon: claim id `BX` + YY + month letter + 7 digits, auth certification `BXA` + YY + 7 digits +
        10-digit case number; disputes get no number (looked up by claim number).
Both:   eligibility control number of 9 digits.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

MONTH_LETTERS = "ABCDEFGHJKLM"


class Identifiers:
    def __init__(self) -> None:
        self._counters: Counter[str] = Counter()

    def _next(self, name: str) -> int:
        self._counters[name] += 1
        return self._counters[name]

    def control_number(self) -> str:
        seq = self._next("control")
        return f"{(seq * 7919 + 104_729) % 900_000_000 + 100_000_000:09d}"

    def trace_number(self, payer: str) -> str:
        """A front-end trace id for a rejected claim (which gets no claim number)."""
        return f"{payer[:2].upper()}TRC{self._next('trace'):08d}"

    def claim_number(self, payer: str, now: datetime) -> str:
        seq = self._next(f"claim:{payer}") + 500
        if payer == "acme":
            return f"{now:%y}{now.timetuple().tm_yday:03d}{seq:08d}"
        return f"BX{now:%y}{MONTH_LETTERS[now.month - 1]}{seq:07d}"

    def auth_reference(self, payer: str, now: datetime) -> str:
        seq = self._next(f"authref:{payer}")
        if payer == "acme":
            return f"CASE-{now:%Y%m%d}-{seq:05d}"
        return f"{4_100_000_000 + seq:010d}"

    def certification_number(self, payer: str, now: datetime) -> str:
        seq = self._next(f"cert:{payer}")
        if payer == "acme":
            return f"PA-{now:%Y-%m}-{seq:04d}"
        return f"BXA{now:%y}{seq:07d}"

    def appeal_tracking_number(self, now: datetime) -> str:
        return f"APL-{now:%Y}-{self._next('appeal') + 100:06d}"

    def appeal_id(self) -> str:
        """The portal's internal key for an appeal (every appeal has one, numbered or not)."""
        return f"ap{self._next('appeal_id'):05d}"
