"""Acme authorization lookup: the search (by reference or certification number, or member +
procedure + dates), the request's page (a poll: pended -> decided) and its decision letter."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mock_portal.access import portal_of, signed_in
from mock_portal.downloads import download
from mock_portal.models import AuthRequest
from mock_portal.pages import render
from mock_portal.payers import ACME as PAYER
from mock_portal.validation import FieldErrors, parse_us_date
from mock_portal.workflows import auths, documents, status

DECISION_LABELS = {
    "approved": "Approved",
    "partially_approved": "Partially approved",
    "denied": "Denied",
    "pended": "Pended for clinical review",
    "not_required": "No authorization required",
}
WORDS = status.SearchWords(
    missing="Enter a reference number, a certification number or a member ID.",
    bad_date="Enter the {label} as MM/DD/YYYY.",
)
DATE_LABELS = ("start date", "end date")

router = APIRouter(prefix=PAYER.base_path)


@router.get("/auths/lookup")
def lookup(request: Request) -> Response:
    session, user = signed_in(request, PAYER)
    portal = portal_of(request)
    form = dict(request.query_params)
    results = None
    errors = FieldErrors()
    if form:
        query = status.read_auth_query(form, parse_us_date, WORDS, DATE_LABELS)
        if isinstance(query, FieldErrors):
            errors = query
        else:
            results = status.search_auths(
                portal.state,
                PAYER.key,
                query,
                now=portal.clock.now(),
                knobs=portal.knobs,
                username=user.username,
            )
    return render(
        request,
        PAYER,
        "acme/auth_lookup.html",
        session=session,
        user=user,
        form=form,
        errors=errors,
        results=results,
        labels=DECISION_LABELS,
    )


def _missing(request: Request, what: str) -> Response:
    session, user = signed_in(request, PAYER)
    return render(
        request, PAYER, "acme/not_found.html", status_code=404, session=session, user=user, what=what
    )


def _auth(request: Request, reference: str) -> AuthRequest | None:
    return portal_of(request).state.auth(PAYER.key, reference)


@router.get("/auths/{reference}/letter.pdf")
def letter(request: Request, reference: str) -> Response:
    signed_in(request, PAYER)
    portal = portal_of(request)
    auth = _auth(request, reference)
    document = documents.auth_letter(PAYER, auth) if auth else None
    if auth is None or document is None:
        return _missing(request, f"A decision letter for authorization {reference}")
    return download(portal.state, PAYER.key, auth.reference_number, document, portal.clock.now())


@router.get("/auths/{reference}")
def detail(request: Request, reference: str) -> Response:
    session, user = signed_in(request, PAYER)
    portal = portal_of(request)
    auth = _auth(request, reference)
    if auth is None:
        return _missing(request, f"Authorization {reference}")
    status.view_auth(portal.state, auth, now=portal.clock.now(), knobs=portal.knobs, username=user.username)
    return render(
        request,
        PAYER,
        "acme/auth_detail.html",
        session=session,
        user=user,
        auth=auth,
        just_submitted=False,
        labels=DECISION_LABELS,
        expires=auths.expiration(auth),
        files=[],
    )
