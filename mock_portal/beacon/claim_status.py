"""Beacon claim status (inside the iframe): the inquiry (by claim ID, or patient member ID +
service dates + billing provider NPI), the claim detail (a status poll: Acknowledged -> In Process
-> Finalized) and its remittance advice PDF."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mock_portal.access import portal_of
from mock_portal.beacon.gate import ready
from mock_portal.downloads import download
from mock_portal.models import Claim
from mock_portal.pages import render
from mock_portal.payers import BEACON as PAYER
from mock_portal.validation import FieldErrors, parse_iso_date
from mock_portal.workflows import documents, remittance, status

STATUS_LABELS = {
    "acknowledged": "Acknowledged",
    "in_process": "In Process",
    "paid": "Finalized - Paid",
    "denied": "Finalized - Denied",
}
WORDS = status.SearchWords(
    missing="Enter a Claim ID or a Patient Member ID.", bad_date="{label} must be a valid date."
)
DATE_LABELS = ("From Date", "To Date")

router = APIRouter(prefix=PAYER.url("/app"))


@router.get("/claims/status")
def search(request: Request) -> Response:
    _session, user = ready(request)
    portal = portal_of(request)
    form = dict(request.query_params)
    results = None
    errors = FieldErrors()
    if form:
        query = status.read_claim_query(form, parse_iso_date, WORDS, DATE_LABELS)
        if isinstance(query, FieldErrors):
            errors = query
        else:
            results = status.search_claims(
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
        "beacon/app_claim_status.html",
        user=user,
        form=form,
        errors=errors,
        results=results,
        labels=STATUS_LABELS,
    )


def _missing(request: Request, what: str) -> Response:
    _session, user = ready(request)
    return render(request, PAYER, "beacon/app_not_found.html", status_code=404, user=user, what=what)


def _claim(request: Request, claim_number: str) -> Claim | None:
    return portal_of(request).state.claim(PAYER.key, claim_number)


@router.get("/claims/{claim_number}/remittance.pdf")
def remittance_advice(request: Request, claim_number: str) -> Response:
    ready(request)
    portal = portal_of(request)
    claim = _claim(request, claim_number)
    statement = remittance.statement(claim, PAYER.payment_method) if claim else None
    document = documents.claim_statement(PAYER, claim, statement) if claim and statement else None
    if claim is None or document is None:
        return _missing(request, f"Remittance advice for claim ID {claim_number}")
    return download(portal.state, PAYER.key, claim.claim_number, document, portal.clock.now())


@router.get("/claims/{claim_number}")
def detail(request: Request, claim_number: str) -> Response:
    _session, user = ready(request)
    portal = portal_of(request)
    claim = _claim(request, claim_number)
    if claim is None:
        return _missing(request, f"Claim ID {claim_number}")
    status.view_claim(portal.state, claim, now=portal.clock.now(), knobs=portal.knobs, username=user.username)
    return render(
        request,
        PAYER,
        "beacon/app_claim_detail.html",
        user=user,
        claim=claim,
        statement=remittance.statement(claim, PAYER.payment_method),
        disputes=portal.state.appeals_for_claim(PAYER.key, claim.claim_number),
        labels=STATUS_LABELS,
    )
