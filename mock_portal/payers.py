"""The two mock payers: a payer-direct portal and a multi-payer exchange, each under its own path."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DuplicateMode(StrEnum):
    """How a payer treats a claim that repeats one already on file (DOMAIN.md §4)."""

    WARN = "warn"  # soft warning with "Submit anyway"
    BLOCK = "block"  # hard block, the existing claim number is shown
    SILENT = "silent"  # accepted, later denied as a duplicate (CARC 18)


@dataclass(frozen=True)
class Payer:
    key: str
    name: str
    base_path: str
    style: str  # "payer-direct" or "exchange"
    session_cookie: str
    timely_filing_days: int
    duplicate_mode: DuplicateMode
    appeals_get_tracking_numbers: bool
    mfa_path: str
    home_path: str
    always_pend_auths: bool  # the exchange answers every auth "pended" first
    payment_method: str  # how it pays claims: "check" or "eft"

    def url(self, path: str) -> str:
        return f"{self.base_path}{path}"

    def as_json(self) -> dict[str, str]:
        return {"key": self.key, "name": self.name, "base_path": self.base_path, "style": self.style}


ACME = Payer(
    key="acme",
    name="Acme Health",
    base_path="/acme",
    style="payer-direct",
    session_cookie="ACMESESSIONID",
    timely_filing_days=90,
    duplicate_mode=DuplicateMode.BLOCK,
    appeals_get_tracking_numbers=True,
    mfa_path="/acme/login/verify",
    home_path="/acme/home",
    always_pend_auths=False,
    payment_method="check",
)

BEACON = Payer(
    key="beacon",
    name="Beacon Exchange",
    base_path="/beacon",
    style="exchange",
    session_cookie="bx_sid",
    timely_filing_days=365,
    duplicate_mode=DuplicateMode.WARN,
    appeals_get_tracking_numbers=False,
    mfa_path="/beacon/verify",
    home_path="/beacon/dashboard",
    always_pend_auths=True,
    payment_method="eft",
)

PAYERS: dict[str, Payer] = {ACME.key: ACME, BEACON.key: BEACON}
