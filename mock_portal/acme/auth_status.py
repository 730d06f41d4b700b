"""Acme authorization lookup: the search (by reference or certification number, or member +
procedure + dates), the request's page (a poll: pended -> decided) and its decision letter."""

from __future__ import annotations

from functools import partial
from typing import Any

from mock_portal.acme.claim_status import DESK
from mock_portal.models import AuthRequest
from mock_portal.payers import ACME as PAYER
from mock_portal.portal import Portal
from mock_portal.workflows import auths, documents, status
from mock_portal.workflows.status_pages import StatusPages

DECISION_LABELS = {
    "approved": "Approved",
    "partially_approved": "Partially approved",
    "denied": "Denied",
    "pended": "Pended for clinical review",
    "not_required": "No authorization required",
}


def _detail(portal: Portal, auth: AuthRequest) -> dict[str, Any]:
    return {"just_submitted": False, "expires": auths.expiration(auth), "files": []}


PAGES = StatusPages(
    DESK,
    status.AUTHS,
    search_template="acme/auth_lookup.html",
    detail_template="acme/auth_detail.html",
    labels=DECISION_LABELS,
    missing_query="Enter a reference number, a certification number or a member ID.",
    missing_record="Authorization {number}",
    missing_document="A decision letter for authorization {number}",
    document=partial(documents.auth_letter, PAYER),
    context=_detail,
)
router = PAGES.router(
    PAYER.base_path, search="/auths/lookup", detail="/auths/{number}", document="/auths/{number}/letter.pdf"
)
