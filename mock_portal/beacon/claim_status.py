"""Beacon claim status (inside the iframe): the inquiry (by claim ID, or patient member ID +
service dates + billing provider NPI), the claim detail (a status poll: Acknowledged -> In Process
-> Finalized) and its remittance advice PDF."""

from __future__ import annotations

from typing import Any

from mock_portal.beacon.gate import ready
from mock_portal.models import Claim
from mock_portal.payers import BEACON as PAYER
from mock_portal.portal import Portal
from mock_portal.validation import parse_iso_date
from mock_portal.workflows import documents, remittance, status
from mock_portal.workflows.status_pages import Desk, StatusPages

# What Beacon's status pages share (auth_status.py's too).
DESK = Desk(
    PAYER,
    gate=ready,
    dates=status.DateFields(parse_iso_date, ("From Date", "To Date"), "{label} must be a valid date."),
    not_found="beacon/app_not_found.html",
)
STATUS_LABELS = {
    "acknowledged": "Acknowledged",
    "in_process": "In Process",
    "paid": "Finalized - Paid",
    "denied": "Finalized - Denied",
}


def _remittance_advice(claim: Claim) -> documents.Document | None:
    return documents.claim_statement(PAYER, claim, remittance.statement(claim, PAYER.payment_method))


def _detail(portal: Portal, claim: Claim) -> dict[str, Any]:
    return {
        "statement": remittance.statement(claim, PAYER.payment_method),
        "disputes": portal.state.appeals_for_claim(PAYER.key, claim.claim_number),
    }


PAGES = StatusPages(
    DESK,
    status.CLAIMS,
    search_template="beacon/app_claim_status.html",
    detail_template="beacon/app_claim_detail.html",
    labels=STATUS_LABELS,
    missing_query="Enter a Claim ID or a Patient Member ID.",
    missing_record="Claim ID {number}",
    missing_document="Remittance advice for claim ID {number}",
    document=_remittance_advice,
    context=_detail,
)
router = PAGES.router(
    PAYER.url("/app"),
    search="/claims/status",
    detail="/claims/{number}",
    document="/claims/{number}/remittance.pdf",
)
