"""Beacon eligibility (inside the workspace iframe): payer typeahead, inquiry, benefits response."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mock_portal.access import portal_of
from mock_portal.beacon.gate import ready
from mock_portal.forms import form_dict, parse_inquiry
from mock_portal.pages import render
from mock_portal.payers import BEACON as PAYER
from mock_portal.validation import FieldErrors, parse_iso_date
from mock_portal.workflows import eligibility

SERVICE_TYPES = [
    ("30", "Health Benefit Plan Coverage (30)"),
    ("98", "Professional Physician Visit - Office (98)"),
    ("33", "Chiropractic (33)"),
    ("47", "Hospital (47)"),
    ("UC", "Urgent Care (UC)"),
    ("AL", "Vision - Optometry (AL)"),
]


router = APIRouter(prefix=PAYER.url("/app"))


@router.get("/eligibility")
def inquiry(request: Request) -> Response:
    _session, user = ready(request)
    today = portal_of(request).clock.now().date()
    form = {"service_date": today.isoformat(), "service_type": "30", "payer_id": "", "payer_name": ""}
    return render(
        request, PAYER, "beacon/app_eligibility.html", user=user, form=form, service_types=SERVICE_TYPES
    )


@router.post("/eligibility")
async def submit(request: Request) -> Response:
    session, user = ready(request)
    portal = portal_of(request)
    now = portal.clock.now()
    form = form_dict(await request.form())
    form.setdefault("payer_id", "")
    parsed = parse_inquiry(form, parse_iso_date, now.date(), npi_default=session.npi)
    if isinstance(parsed, FieldErrors):
        return render(
            request,
            PAYER,
            "beacon/app_eligibility.html",
            user=user,
            form=form,
            errors=parsed,
            service_types=SERVICE_TYPES,
        )
    result = eligibility.check(portal.state, payer=PAYER.key, username=user.username, inquiry=parsed, now=now)
    return render(
        request,
        PAYER,
        "beacon/app_eligibility_result.html",
        user=user,
        result=result,
        payer_name=form.get("payer_name", ""),
        service_type=dict(SERVICE_TYPES).get(parsed.service_type, ""),
    )
