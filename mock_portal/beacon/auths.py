"""Beacon authorizations (inside the iframe): one long request form with attachments; answers
come back pended and are decided on later status checks (auth_status.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mock_portal.access import portal_of
from mock_portal.beacon.auth_status import STATUS_LABELS
from mock_portal.beacon.gate import ready
from mock_portal.forms import UNIT_TYPES, build_auth, form_dict, read_auth_patient, read_auth_service
from mock_portal.models import User
from mock_portal.pages import render
from mock_portal.payers import BEACON as PAYER
from mock_portal.uploads import check_documents, read_uploads
from mock_portal.validation import PLACES_OF_SERVICE, FieldErrors, parse_iso_date
from mock_portal.workflows import auths

router = APIRouter(prefix=PAYER.url("/app"))


def form_page(request: Request, user: User, form: dict[str, str], **extra: Any) -> Response:
    context: dict[str, Any] = {"file_errors": [], **extra}
    return render(
        request,
        PAYER,
        "beacon/app_auth_form.html",
        user=user,
        form=form,
        unit_types=list(UNIT_TYPES.items()),
        pos_options=[(c, f"{c} {n}") for c, n in PLACES_OF_SERVICE.items()],
        **context,
    )


@router.get("/auths/new")
def new_auth(request: Request) -> Response:
    session, user = ready(request)
    form = {
        "requesting_npi": session.npi,
        "urgency": "standard",
        "proc_0_unit_type": "units",
        "payer_id": "",
    }
    return form_page(request, user, form | {"payer_name": ""})


@router.post("/auths/new")
async def submit(request: Request) -> Response:
    _session, user = ready(request)
    portal = portal_of(request)
    now = portal.clock.now()
    raw = await request.form()
    form = form_dict(raw)
    form.setdefault("payer_id", "")
    errors = FieldErrors()
    if not form.get("payer_id"):
        errors.add("payer", "Select a payer from the list.")
    patient = read_auth_patient(form, errors, parse_iso_date, now.date())
    service = read_auth_service(form, errors, parse_iso_date)
    documents, file_errors = check_documents(await read_uploads(raw.getlist("attachments")), portal.knobs)
    if errors or file_errors:
        return form_page(request, user, form, errors=errors, file_errors=file_errors)
    request_form = build_auth(patient, service, form.get("clinical_notes", ""), form["payer_id"])
    auth = auths.submit(
        portal.state,
        payer=PAYER.key,
        username=user.username,
        form=request_form,
        now=now,
        files=[doc.as_json() for doc in documents],
        always_pend=PAYER.always_pend_auths,
    )
    return render(
        request,
        PAYER,
        "beacon/app_auth_detail.html",
        user=user,
        auth=auth,
        labels=STATUS_LABELS,
        just_submitted=True,
        documents=documents,
        expires=auths.expiration(auth),
    )
