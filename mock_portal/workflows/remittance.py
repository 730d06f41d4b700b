"""What a claim status lookup adds to the claim: its X12 277 category, the CARC adjustments and the
payment (check or EFT), all derived from the record so every lookup and every reset agree."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from mock_portal.models import Claim, ClaimStatus

# Claim Adjustment Reason Codes (X12 CARC) the mock uses, with their published wording.
CARC_TEXT = {
    "CO-16": "Claim/service lacks information or has submission/billing error(s).",
    "CO-18": "Exact duplicate claim/service.",
    "CO-29": "The time limit for filing has expired.",
    "CO-45": "Charge exceeds fee schedule/maximum allowable or contracted/legislated fee arrangement.",
    "CO-50": "These are non-covered services because this is not deemed a medical necessity.",
    "CO-97": "The benefit for this service is included in another service already adjudicated.",
}


@dataclass(frozen=True)
class Category:
    """An X12 277 claim status category: its code, its words, and the name sopwright uses."""

    code: str
    words: str
    name: str

    @property
    def label(self) -> str:
        return f"{self.code} - {self.words}"


CATEGORIES = {
    ClaimStatus.ACKNOWLEDGED: Category(
        "A2", "Acknowledgement/Acceptance into adjudication system", "acknowledged"
    ),
    ClaimStatus.IN_PROCESS: Category("P1", "Pending/In Process", "pending"),
    ClaimStatus.PAID: Category("F1", "Finalized/Payment", "finalized_paid"),
    ClaimStatus.DENIED: Category("F2", "Finalized/Denial", "finalized_denied"),
}
NOT_FOUND = Category("A4", "Acknowledgement/Not Found", "not_found")
FINAL = (ClaimStatus.PAID, ClaimStatus.DENIED)


@dataclass(frozen=True)
class Adjustment:
    code: str  # group and reason, e.g. "CO-45"
    reason: str
    amount: Decimal


@dataclass(frozen=True)
class Payment:
    method: str  # "check" or "eft"
    number: str  # check number or EFT trace number
    paid_on: date
    amount: Decimal


@dataclass(frozen=True)
class Statement:
    """Everything a status lookup shows about a claim beyond its own fields."""

    category: Category
    finalized: bool
    adjustments: tuple[Adjustment, ...] = ()
    payment: Payment | None = None
    finalized_on: date | None = None


def _denial(claim: Claim) -> tuple[str, str]:
    """The CARC of a denied claim, from its denial reason ("CO-50: These are ...")."""
    code, _, text = claim.denial_reason.partition(":")
    code = code.strip()
    return code, CARC_TEXT.get(code, text.strip())


def payment_number(payer: str, claim_number: str, method: str) -> str:
    """A check number (8 digits) or EFT trace number (15 digits), the same for the same claim."""
    digest = int(hashlib.sha256(f"{payer}:{claim_number}".encode()).hexdigest(), 16)
    if method == "check":
        return str(10_000_000 + digest % 90_000_000)
    return str(100_000_000_000_000 + digest % 900_000_000_000_000)


def statement(claim: Claim, payment_method: str) -> Statement:
    category = CATEGORIES[claim.status]
    if claim.status not in FINAL:
        return Statement(category, finalized=False)
    finalized_on = (claim.finalized_at or claim.submitted_at).date()
    if claim.status is ClaimStatus.DENIED:
        code, reason = _denial(claim)
        adjustment = Adjustment(code, reason, claim.total_charge)
        return Statement(category, True, (adjustment,), None, finalized_on)
    contractual = claim.total_charge - claim.paid_amount
    adjustments = (Adjustment("CO-45", CARC_TEXT["CO-45"], contractual),) if contractual > 0 else ()
    payment = Payment(
        method=payment_method,
        number=payment_number(claim.payer, claim.claim_number, payment_method),
        paid_on=finalized_on,
        amount=claim.paid_amount,
    )
    return Statement(category, True, adjustments, payment, finalized_on)
