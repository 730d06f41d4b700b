"""Settling a claim status check from what the portal showed (sops/results.py names).

Portals print the X12 277 claim status category as `CODE - words` ("F1 - Finalized/Payment");
the code decides `status_category`, the portal's own words stay in `claim_status`. Outcomes
(sops/library/check_claim_status.yaml says why): paid -> completed; denied, not finalized yet and
not found -> completed_with_issues.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from handlers.context import StepContext
from sops.types import Outcome

# Claim status category codes (X12 external code list 507) by what the task reports.
_PENDING_PREFIXES = ("P", "R")  # pending; requests for more information (the claim waits)
_DENIED = {"F2", "F4"}  # finalized/denial; finalized/adjudication complete, no payment forthcoming
_NOT_FOUND = {"D0"}  # data search unsuccessful


def status_category(code_text: str, *, paid_amount: str | None = None) -> str | None:
    """`A2 - Acknowledgement/...` -> "acknowledged"; None when the code is not one this knows."""
    code = code_text.split(" ", 1)[0].strip().upper()
    if not code:
        return None
    if code in _NOT_FOUND:
        return "not_found"
    if code.startswith("A"):
        return "acknowledged"
    if code.startswith(_PENDING_PREFIXES):
        return "pending"
    if code in _DENIED:
        return "finalized_denied"
    if code.startswith("F"):  # F1 paid, F0/F3 finalized (or revised): paid when money was paid
        paid = Decimal(paid_amount) if paid_amount else Decimal("0")
        return "finalized_paid" if code == "F1" or paid > 0 else "finalized_denied"
    return None


def adjustments(rows: Sequence[Sequence[str]]) -> dict[str, list[str]]:
    """Adjustment table rows (code, reason text, amount) -> `adjustment_codes` and `_reasons`."""
    codes, reasons = [], []
    for row in rows:
        if not row or not row[0]:
            continue
        code = row[0].strip().upper()
        codes.append(code)
        reasons.append(f"{code}: {row[1]}" if len(row) > 1 and row[1] else code)
    return {"adjustment_codes": codes, "adjustment_reasons": reasons}


def payment_method(text: str) -> str | None:
    """The portal's "Check" / "EFT" (or "ACH", "Direct deposit") -> "check" / "eft"."""
    words = text.strip().lower()
    if not words:
        return None
    return "check" if "check" in words or "cheque" in words else "eft"


def choose_claim(numbers: Sequence[str], claim_number: str | None) -> str | None:
    """The claim to open among a search's result rows (newest first): the one whose number the
    task gives, else the newest (a member search over dates may match several claims: the step
    then names the others)."""
    if claim_number is not None:
        wanted = claim_number.upper()
        return next((number for number in numbers if number.upper() == wanted), None)
    return numbers[0] if numbers else None


def not_found(ctx: StepContext, message: str) -> None:
    """The payer has no claim matching the search: an answer, not a failure (see the SOP)."""
    ctx.finish(
        Outcome.COMPLETED_WITH_ISSUES,
        status_category="not_found",
        claim_number=ctx.fields.get("claim_number"),
        payer_message=message,
    )


def settle_claim_status(ctx: StepContext, result: dict[str, Any]) -> None:
    """Finish the task from what the detail page showed."""
    category = result.get("status_category")
    if category is None:
        words = result.get("claim_status") or "nothing"
        ctx.fail(f"the portal showed a claim status this script does not know ({words})", **result)
        return
    outcome = Outcome.COMPLETED if category == "finalized_paid" else Outcome.COMPLETED_WITH_ISSUES
    ctx.finish(outcome, **result)
