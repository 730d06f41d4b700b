"""Acme eligibility and benefits: one search form (masked DOB input), one result page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mock_portal.access import portal_of, signed_in
from mock_portal.forms import form_dict, parse_inquiry
from mock_portal.pages import render
from mock_portal.payers import ACME as PAYER
from mock_portal.validation import FieldErrors, parse_us_date
from mock_portal.workflows import eligibility

SERVICE_TYPES = [
    ("30", "30 - Health benefit plan coverage"),
    ("98", "98 - Professional (physician) visit - office"),
    ("33", "33 - Chiropractic"),
    ("47", "47 - Hospital"),
    ("UC", "UC - Urgent care"),
    ("AL", "AL - Vision (optometry)"),
]


router = APIRouter(prefix=PAYER.base_path)


@router.get("/eligibility")
def search(request: Request) -> Response:
    session, user = signed_in(request, PAYER)
    today = portal_of(request).clock.now().date()
    form = {"service_date": today.strftime("%m/%d/%Y"), "service_type": "30"}
    return render(
        request,
        PAYER,
        "acme/eligibility.html",
        session=session,
        user=user,
        form=form,
        service_types=SERVICE_TYPES,
    )


@router.post("/eligibility")
async def check(request: Request) -> Response:
    session, user = signed_in(request, PAYER)
    portal = portal_of(request)
    now = portal.clock.now()
    form = form_dict(await request.form())
    parsed = parse_inquiry(form, parse_us_date, now.date())
    if isinstance(parsed, FieldErrors):
        return render(
            request,
            PAYER,
            "acme/eligibility.html",
            session=session,
            user=user,
            form=form,
            errors=parsed,
            service_types=SERVICE_TYPES,
        )
    result = eligibility.check(portal.state, payer=PAYER.key, username=user.username, inquiry=parsed, now=now)
    return render(
        request,
        PAYER,
        "acme/eligibility_result.html",
        session=session,
        user=user,
        result=result,
        service_type=dict(SERVICE_TYPES).get(parsed.service_type, parsed.service_type),
    )
