"""Beacon authorization status (inside the iframe): the inquiry (by case or certification number,
or patient member ID + procedure + dates), the case page (a poll: pended -> decided) and its
determination letter."""

from __future__ import annotations

from functools import partial
from typing import Any

from mock_portal.beacon.claim_status import DESK
from mock_portal.models import AuthRequest
from mock_portal.payers import BEACON as PAYER
from mock_portal.portal import Portal
from mock_portal.workflows import auths, documents, status
from mock_portal.workflows.status_pages import StatusPages

STATUS_LABELS = {
    "approved": "Certified in Total",
    "partially_approved": "Certified - Partial",
    "denied": "Not Certified",
    "pended": "Pended - In Review",
    "not_required": "No Authorization Required",
}


def _detail(portal: Portal, auth: AuthRequest) -> dict[str, Any]:
    return {"just_submitted": False, "expires": auths.expiration(auth), "documents": []}


PAGES = StatusPages(
    DESK,
    status.AUTHS,
    search_template="beacon/app_auth_status.html",
    detail_template="beacon/app_auth_detail.html",
    labels=STATUS_LABELS,
    missing_query="Enter a Case Number, a Certification Number or a Patient Member ID.",
    missing_record="Case {number}",
    missing_document="A determination letter for case {number}",
    document=partial(documents.auth_letter, PAYER),
    context=_detail,
)
router = PAGES.router(
    PAYER.url("/app"), search="/auths/status", detail="/auths/{number}", document="/auths/{number}/letter.pdf"
)
