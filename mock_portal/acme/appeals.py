"""Acme appeals: the appeal form (with documents), its confirmation and the list by claim number."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mock_portal.access import portal_of, signed_in
from mock_portal.forms import form_dict, parse_appeal
from mock_portal.models import User
from mock_portal.pages import render
from mock_portal.payers import ACME as PAYER
from mock_portal.sessions import Session
from mock_portal.uploads import check_documents, read_uploads
from mock_portal.validation import APPEAL_REASONS, FieldErrors, parse_us_date
from mock_portal.workflows import appeals
from mock_portal.workflows.appeals import AppealOutcome

STATUS_WORDS = {"acknowledged": "received", "in_process": "in process", "paid": "paid", "denied": "denied"}


router = APIRouter(prefix=PAYER.base_path)


def form_page(request: Request, session: Session, user: User, form: dict[str, str], **extra: Any) -> Response:
    context: dict[str, Any] = {"file_errors": [], "errors": FieldErrors(), **extra}
    return render(
        request,
        PAYER,
        "acme/appeal_form.html",
        session=session,
        user=user,
        form=form,
        reasons=list(APPEAL_REASONS.items()),
        **context,
    )


@router.get("/appeals/new")
def new_appeal(request: Request, claim_number: str = "") -> Response:
    session, user = signed_in(request, PAYER)
    portal = portal_of(request)
    form: dict[str, str] = {"claim_number": claim_number}
    claim = portal.state.claim(PAYER.key, claim_number) if claim_number else None
    member = portal.state.member(claim.member_id) if claim else None
    if member:
        form.update(
            member_id=member.member_id,
            patient_first_name=member.first_name,
            patient_last_name=member.last_name,
            date_of_birth=member.date_of_birth.strftime("%m/%d/%Y"),
        )
    return form_page(request, session, user, form)


@router.post("/appeals/new")
async def submit_appeal(request: Request) -> Response:
    session, user = signed_in(request, PAYER)
    portal = portal_of(request)
    now = portal.clock.now()
    raw = await request.form()
    form = form_dict(raw)
    parsed = parse_appeal(form, parse_us_date, now.date())
    documents, file_errors = check_documents(await read_uploads(raw.getlist("documents")), portal.knobs)
    if isinstance(parsed, FieldErrors) or file_errors:
        errors = parsed if isinstance(parsed, FieldErrors) else FieldErrors()
        if file_errors:
            errors.add("documents", "Some documents could not be attached. Fix them and attach them again.")
        return form_page(request, session, user, form, errors=errors, file_errors=file_errors)
    result = appeals.submit(
        portal.state,
        payer=PAYER.key,
        username=user.username,
        form=parsed,
        now=now,
        files=[d.as_json() for d in documents],
        with_tracking_number=PAYER.appeals_get_tracking_numbers,
    )
    if result.outcome is AppealOutcome.FILED:
        return render(
            request,
            PAYER,
            "acme/appeal_result.html",
            session=session,
            user=user,
            result=result,
            documents=documents,
        )
    errors = FieldErrors()
    number = parsed.claim_number
    if result.outcome is AppealOutcome.CLAIM_NOT_FOUND:
        errors.add("claim_number", f"We could not find claim {number} for member {parsed.member_id}.")
    elif result.outcome is AppealOutcome.NOT_APPEALABLE:
        status = STATUS_WORDS.get(result.claim_status, result.claim_status)
        errors.add(
            "claim_number",
            f"Claim {number} is not appealable: it is {status}. Only denied claims can be appealed.",
        )
    else:
        existing = result.existing.tracking_number if result.existing else ""
        errors.add("claim_number", f"An appeal for claim {number} is already on file ({existing}).")
    return form_page(request, session, user, form, errors=errors, outcome=result.outcome.value)


@router.get("/appeals")
def appeal_list(request: Request, claim_number: str = "") -> Response:
    session, user = signed_in(request, PAYER)
    found = portal_of(request).state.appeals_for_claim(PAYER.key, claim_number) if claim_number else None
    return render(
        request,
        PAYER,
        "acme/appeal_list.html",
        session=session,
        user=user,
        form={"claim_number": claim_number},
        appeals=found,
    )
