"""Acme claim status: the search (by claim number, or member + dates of service + billing NPI),
the claim detail (a status poll; only a denied claim offers "File appeal") and its EOB PDF."""

from __future__ import annotations

from typing import Any

from mock_portal.access import signed_in
from mock_portal.models import Claim
from mock_portal.payers import ACME as PAYER
from mock_portal.portal import Portal
from mock_portal.validation import parse_us_date
from mock_portal.workflows import documents, remittance, status
from mock_portal.workflows.status_pages import Desk, StatusPages

# What Acme's status pages share (auth_status.py's too).
DESK = Desk(
    PAYER,
    gate=lambda request: signed_in(request, PAYER),
    dates=status.DateFields(parse_us_date, ("start date", "end date"), "Enter the {label} as MM/DD/YYYY."),
    not_found="acme/not_found.html",
)
STATUS_LABELS = {"acknowledged": "Received", "in_process": "In process", "paid": "Paid", "denied": "Denied"}


def _eob(claim: Claim) -> documents.Document | None:
    return documents.claim_statement(PAYER, claim, remittance.statement(claim, PAYER.payment_method))


def _detail(portal: Portal, claim: Claim) -> dict[str, Any]:
    return {
        "statement": remittance.statement(claim, PAYER.payment_method),
        "appeals": portal.state.appeals_for_claim(PAYER.key, claim.claim_number),
    }


PAGES = StatusPages(
    DESK,
    status.CLAIMS,
    search_template="acme/claim_status.html",
    detail_template="acme/claim_detail.html",
    labels=STATUS_LABELS,
    missing_query="Enter a claim number or a member ID.",
    missing_record="Claim {number}",
    missing_document="An EOB for claim {number}",
    document=_eob,
    context=_detail,
)
router = PAGES.router(
    PAYER.base_path, search="/claims/status", detail="/claims/{number}", document="/claims/{number}/eob.pdf"
)
