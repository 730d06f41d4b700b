"""Beacon authorization status (inside the iframe): the inquiry (by case or certification number,
or patient member ID + procedure + dates), the case page (a poll: pended -> decided) and its
determination letter."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mock_portal.access import portal_of
from mock_portal.beacon.gate import ready
from mock_portal.downloads import download
from mock_portal.models import AuthRequest
from mock_portal.pages import render
from mock_portal.payers import BEACON as PAYER
from mock_portal.validation import FieldErrors, parse_iso_date
from mock_portal.workflows import auths, documents, status

STATUS_LABELS = {
    "approved": "Certified in Total",
    "partially_approved": "Certified - Partial",
    "denied": "Not Certified",
    "pended": "Pended - In Review",
    "not_required": "No Authorization Required",
}
WORDS = status.SearchWords(
    missing="Enter a Case Number, a Certification Number or a Patient Member ID.",
    bad_date="{label} must be a valid date.",
)
DATE_LABELS = ("From Date", "To Date")

router = APIRouter(prefix=PAYER.url("/app"))


@router.get("/auths/status")
def search(request: Request) -> Response:
    _session, user = ready(request)
    portal = portal_of(request)
    form = dict(request.query_params)
    results = None
    errors = FieldErrors()
    if form:
        query = status.read_auth_query(form, parse_iso_date, WORDS, DATE_LABELS)
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
        "beacon/app_auth_status.html",
        user=user,
        form=form,
        errors=errors,
        results=results,
        labels=STATUS_LABELS,
    )


def _missing(request: Request, what: str) -> Response:
    _session, user = ready(request)
    return render(request, PAYER, "beacon/app_not_found.html", status_code=404, user=user, what=what)


def _auth(request: Request, reference: str) -> AuthRequest | None:
    return portal_of(request).state.auth(PAYER.key, reference)


@router.get("/auths/{reference}/letter.pdf")
def letter(request: Request, reference: str) -> Response:
    ready(request)
    portal = portal_of(request)
    auth = _auth(request, reference)
    document = documents.auth_letter(PAYER, auth) if auth else None
    if auth is None or document is None:
        return _missing(request, f"A determination letter for case {reference}")
    return download(portal.state, PAYER.key, auth.reference_number, document, portal.clock.now())


@router.get("/auths/{reference}")
def detail(request: Request, reference: str) -> Response:
    _session, user = ready(request)
    portal = portal_of(request)
    auth = _auth(request, reference)
    if auth is None:
        return _missing(request, f"Case {reference}")
    status.view_auth(portal.state, auth, now=portal.clock.now(), knobs=portal.knobs, username=user.username)
    return render(
        request,
        PAYER,
        "beacon/app_auth_detail.html",
        user=user,
        auth=auth,
        labels=STATUS_LABELS,
        just_submitted=False,
        documents=[],
        expires=auths.expiration(auth),
    )
