"""Acme claim status: the search (by claim number, or member + dates of service + billing NPI),
the claim detail (a status poll; only a denied claim offers "File appeal") and its EOB PDF."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mock_portal.access import portal_of, signed_in
from mock_portal.downloads import download
from mock_portal.models import Claim
from mock_portal.pages import render
from mock_portal.payers import ACME as PAYER
from mock_portal.validation import FieldErrors, parse_us_date
from mock_portal.workflows import documents, remittance, status

STATUS_LABELS = {"acknowledged": "Received", "in_process": "In process", "paid": "Paid", "denied": "Denied"}
WORDS = status.SearchWords(
    missing="Enter a claim number or a member ID.", bad_date="Enter the {label} as MM/DD/YYYY."
)
DATE_LABELS = ("start date", "end date")

router = APIRouter(prefix=PAYER.base_path)


@router.get("/claims/status")
def search(request: Request) -> Response:
    session, user = signed_in(request, PAYER)
    portal = portal_of(request)
    form = dict(request.query_params)
    results = None
    errors = FieldErrors()
    if form:
        query = status.read_claim_query(form, parse_us_date, WORDS, DATE_LABELS)
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
        "acme/claim_status.html",
        session=session,
        user=user,
        form=form,
        errors=errors,
        results=results,
        labels=STATUS_LABELS,
    )


def _missing(request: Request, what: str) -> Response:
    session, user = signed_in(request, PAYER)
    return render(
        request, PAYER, "acme/not_found.html", status_code=404, session=session, user=user, what=what
    )


def _claim(request: Request, claim_number: str) -> Claim | None:
    return portal_of(request).state.claim(PAYER.key, claim_number)


@router.get("/claims/{claim_number}/eob.pdf")
def eob(request: Request, claim_number: str) -> Response:
    signed_in(request, PAYER)
    portal = portal_of(request)
    claim = _claim(request, claim_number)
    statement = remittance.statement(claim, PAYER.payment_method) if claim else None
    document = documents.claim_statement(PAYER, claim, statement) if claim and statement else None
    if claim is None or document is None:
        return _missing(request, f"An EOB for claim {claim_number}")
    return download(portal.state, PAYER.key, claim.claim_number, document, portal.clock.now())


@router.get("/claims/{claim_number}")
def detail(request: Request, claim_number: str) -> Response:
    session, user = signed_in(request, PAYER)
    portal = portal_of(request)
    claim = _claim(request, claim_number)
    if claim is None:
        return _missing(request, f"Claim {claim_number}")
    status.view_claim(portal.state, claim, now=portal.clock.now(), knobs=portal.knobs, username=user.username)
    return render(
        request,
        PAYER,
        "acme/claim_detail.html",
        session=session,
        user=user,
        claim=claim,
        statement=remittance.statement(claim, PAYER.payment_method),
        appeals=portal.state.appeals_for_claim(PAYER.key, claim.claim_number),
        labels=STATUS_LABELS,
    )
