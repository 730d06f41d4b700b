"""Beacon disputes (inside the iframe): no dispute number is issued; they are listed by claim ID."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mock_portal.access import portal_of
from mock_portal.beacon.gate import ready
from mock_portal.forms import form_dict, parse_appeal
from mock_portal.models import User
from mock_portal.pages import render
from mock_portal.payers import BEACON as PAYER
from mock_portal.uploads import check_documents, read_uploads
from mock_portal.validation import APPEAL_REASONS, FieldErrors, parse_iso_date
from mock_portal.workflows import appeals
from mock_portal.workflows.appeals import AppealOutcome

CLAIM_STATUS = {"acknowledged": "Acknowledged", "in_process": "In Process", "paid": "Finalized - Paid"}


router = APIRouter(prefix=PAYER.url("/app"))


def form_page(request: Request, user: User, form: dict[str, str], **extra: Any) -> Response:
    context: dict[str, Any] = {"file_errors": [], **extra}
    return render(
        request,
        PAYER,
        "beacon/app_dispute_form.html",
        user=user,
        form=form,
        reasons=list(APPEAL_REASONS.items()),
        **context,
    )


@router.get("/disputes")
def disputes(request: Request, claim_number: str = "") -> Response:
    _, user = ready(request)
    found = portal_of(request).state.appeals_for_claim(PAYER.key, claim_number) if claim_number else None
    return render(
        request,
        PAYER,
        "beacon/app_disputes.html",
        user=user,
        form={"claim_number": claim_number},
        found=found,
    )


@router.get("/disputes/new")
def new_dispute(request: Request, claim_number: str = "") -> Response:
    _, user = ready(request)
    portal = portal_of(request)
    form = {"claim_number": claim_number}
    claim = portal.state.claim(PAYER.key, claim_number) if claim_number else None
    member = portal.state.member(claim.member_id) if claim else None
    if member:
        form.update(
            member_id=member.member_id,
            patient_first_name=member.first_name,
            patient_last_name=member.last_name,
            date_of_birth=member.date_of_birth.isoformat(),
        )
    return form_page(request, user, form)


@router.post("/disputes/new")
async def submit(request: Request) -> Response:
    _, user = ready(request)
    portal = portal_of(request)
    now = portal.clock.now()
    raw = await request.form()
    form = form_dict(raw)
    parsed = parse_appeal(form, parse_iso_date, now.date())
    documents, file_errors = check_documents(await read_uploads(raw.getlist("attachments")), portal.knobs)
    if isinstance(parsed, FieldErrors) or file_errors:
        errors = parsed if isinstance(parsed, FieldErrors) else FieldErrors()
        return form_page(request, user, form, errors=errors, file_errors=file_errors)
    result = appeals.submit(
        portal.state,
        payer=PAYER.key,
        username=user.username,
        form=parsed,
        now=now,
        files=[doc.as_json() for doc in documents],
        with_tracking_number=PAYER.appeals_get_tracking_numbers,
    )
    if result.outcome is AppealOutcome.FILED:
        return render(
            request,
            PAYER,
            "beacon/app_dispute_result.html",
            user=user,
            result=result,
            documents=documents,
        )
    errors = FieldErrors()
    number = parsed.claim_number
    if result.outcome is AppealOutcome.CLAIM_NOT_FOUND:
        errors.add("claim_number", f"Claim ID {number} was not found for this patient.")
    elif result.outcome is AppealOutcome.NOT_APPEALABLE:
        label = CLAIM_STATUS.get(result.claim_status, result.claim_status)
        errors.add("claim_number", f"This claim cannot be disputed (status: {label}).")
    else:
        when = result.existing.submitted_at.strftime("%b %d, %Y") if result.existing else ""
        errors.add(
            "claim_number", f"A dispute for claim ID {number} is already in progress (received {when})."
        )
    return form_page(request, user, form, errors=errors, outcome=result.outcome.value)
