"""Beacon claims (inside the iframe): a claim form whose service lines are added in the browser,
the billing provider held to the organization of the provider context, the soft duplicate warning
with "Submit anyway" and the acknowledgement (status search and detail: claim_status.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mock_portal.access import portal_of
from mock_portal.beacon.claim_status import STATUS_LABELS
from mock_portal.beacon.gate import ready
from mock_portal.claim_form import line_count, parse_claim
from mock_portal.forms import form_dict
from mock_portal.models import User
from mock_portal.pages import render
from mock_portal.payers import BEACON as PAYER
from mock_portal.sessions import Session
from mock_portal.store import PortalState
from mock_portal.validation import PLACES_OF_SERVICE, FieldErrors, parse_iso_date
from mock_portal.workflows import claims
from mock_portal.workflows.claims import ClaimOutcome

POS_OPTIONS = [(code, f"{code} {name}") for code, name in PLACES_OF_SERVICE.items()]


router = APIRouter(prefix=PAYER.url("/app"))


def form_page(request: Request, user: User, form: dict[str, str], **extra: Any) -> Response:
    return render(
        request,
        PAYER,
        "beacon/app_claim_form.html",
        user=user,
        form=form,
        lines=range(line_count(form)),
        pos_options=POS_OPTIONS,
        **extra,
    )


def defaults(session: Session) -> dict[str, str]:
    return {
        "billing_npi": session.npi,
        "tax_id": session.tax_id,
        "line_count": "1",
        "payer_id": "",
        "payer_name": "",
    }


def billing_provider_problems(state: PortalState, session: Session, npi: str, tax_id: str) -> FieldErrors:
    """An exchange bills for the organization chosen in the provider context: the billing NPI must
    be one of its providers and the billing tax ID its TIN (nothing is sent to the payer if not)."""
    errors = FieldErrors()
    org = state.organization(session.tax_id)
    if org is None:  # a context always names a seeded organization; nothing to hold the claim to
        return errors
    tin = f"{org.tax_id[:2]}-{org.tax_id[2:]}"
    if npi not in {p.npi for p in org.providers}:
        errors.add(
            "billing_npi",
            f"Billing NPI {npi} is not a provider of {org.name} (TIN {tin}). Enter the NPI of one "
            "of this organization's providers, or change the organization.",
        )
    if tax_id != org.tax_id:
        errors.add(
            "tax_id",
            f"Billing Tax ID {tax_id[:2]}-{tax_id[2:]} does not match the selected organization, "
            f"{org.name} (TIN {tin}).",
        )
    return errors


@router.get("/claims/new")
def new_claim(request: Request) -> Response:
    session, user = ready(request)
    return form_page(request, user, defaults(session))


@router.post("/claims/new")
async def submit(request: Request) -> Response:
    _session, user = ready(request)
    portal = portal_of(request)
    now = portal.clock.now()
    form = form_dict(await request.form())
    form.setdefault("payer_id", "")
    parsed = parse_claim(form, parse_iso_date, now.date(), PAYER.timely_filing_days)
    if isinstance(parsed, FieldErrors):
        return form_page(request, user, form, errors=parsed)
    refused = billing_provider_problems(portal.state, _session, parsed.billing_npi, parsed.tax_id)
    if refused:
        return form_page(request, user, form, errors=refused)
    result = claims.submit(
        portal.state,
        payer=PAYER.key,
        username=user.username,
        form=parsed,
        now=now,
        duplicate_mode=portal.duplicate_mode(PAYER),
        confirmed_duplicate=form.get("confirm_duplicate") == "yes",
    )
    if result.outcome is ClaimOutcome.DUPLICATE_WARNING:
        hidden = {k: val for k, val in form.items() if k != "confirm_duplicate"}
        return render(
            request,
            PAYER,
            "beacon/app_claim_duplicate.html",
            user=user,
            hidden=hidden,
            duplicate_of=result.duplicate_of,
        )
    if result.outcome is ClaimOutcome.DUPLICATE_BLOCKED:
        errors = FieldErrors()
        errors.add("member_id", f"Duplicate claim. This claim matches claim ID {result.duplicate_of}.")
        return form_page(request, user, form, errors=errors, duplicate_of=result.duplicate_of)
    return render(
        request,
        PAYER,
        "beacon/app_claim_result.html",
        user=user,
        result=result,
        payer_name=form.get("payer_name", ""),
        labels=STATUS_LABELS,
    )
