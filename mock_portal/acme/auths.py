"""Acme prior authorization: a four-step wizard (patient, service, clinical + documents, review)
with per-step server validation and Back/Next, then the decision page (the lookup is in
auth_status.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mock_portal.access import Redirect, portal_of, signed_in
from mock_portal.acme.auth_status import DECISION_LABELS
from mock_portal.forms import UNIT_TYPES, build_auth, form_dict, read_auth_patient, read_auth_service
from mock_portal.models import User
from mock_portal.pages import render
from mock_portal.payers import ACME as PAYER
from mock_portal.sessions import Session
from mock_portal.uploads import check_documents, read_uploads
from mock_portal.validation import PLACES_OF_SERVICE, FieldErrors, parse_us_date
from mock_portal.workflows import auths

STEPS = ("Patient and providers", "Service details", "Clinical information", "Review and submit")
DRAFT = "acme_auth"
POS_OPTIONS = [(code, f"{code} - {name}") for code, name in PLACES_OF_SERVICE.items()]


def _draft(session: Session) -> dict[str, Any]:
    draft: dict[str, Any] = session.drafts.setdefault(
        DRAFT, {"forms": {}, "done": [], "files": [], "notes": ""}
    )
    return draft


router = APIRouter(prefix=PAYER.base_path)


def step_page(
    request: Request,
    session: Session,
    user: User,
    step: int,
    errors: FieldErrors | None = None,
    **extra: Any,
) -> Response:
    draft = _draft(session)
    form = draft["forms"].get(str(step), {"proc_0_unit_type": "units", "urgency": "standard"})
    context: dict[str, Any] = {"file_errors": [], **extra}
    if step == 4:
        today = portal_of(request).clock.now().date()
        probe = FieldErrors()
        context["patient"] = read_auth_patient(draft["forms"].get("1", {}), probe, parse_us_date, today)
        context["service"] = read_auth_service(draft["forms"].get("2", {}), probe, parse_us_date)
    return render(
        request,
        PAYER,
        "acme/auth_step.html",
        session=session,
        user=user,
        step=step,
        steps=STEPS,
        form=form,
        errors=errors or FieldErrors(),
        draft=draft,
        unit_types=list(UNIT_TYPES.items()),
        pos_options=POS_OPTIONS,
        **context,
    )


def first_incomplete(draft: dict[str, Any]) -> int:
    return next((s for s in (1, 2, 3) if s not in draft["done"]), 4)


@router.get("/auths/new")
def start(request: Request) -> Response:
    session, _ = signed_in(request, PAYER)
    session.drafts.pop(DRAFT, None)
    raise Redirect(PAYER.url("/auths/new/1"))


@router.get("/auths/new/{step}")
def show_step(request: Request, step: int) -> Response:
    session, user = signed_in(request, PAYER)
    draft = _draft(session)
    if step not in (1, 2, 3, 4) or step > first_incomplete(draft):
        raise Redirect(PAYER.url(f"/auths/new/{first_incomplete(draft)}"))
    return step_page(request, session, user, step)


@router.post("/auths/new/{step}")
async def post_step(request: Request, step: int) -> Response:
    session, user = signed_in(request, PAYER)
    portal = portal_of(request)
    draft = _draft(session)
    if step not in (1, 2, 3, 4) or step > first_incomplete(draft):
        raise Redirect(PAYER.url(f"/auths/new/{first_incomplete(draft)}"))
    raw = await request.form()
    form = form_dict(raw)
    action = form.pop("action", "next")
    today = portal.clock.now().date()
    if step in (1, 2):
        draft["forms"][str(step)] = form
    if step == 3:
        draft["notes"] = form.get("clinical_notes", "")
        draft["forms"]["3"] = {"clinical_notes": draft["notes"]}
        uploads = await read_uploads(raw.getlist("documents"))
        if action.startswith("remove_file_"):
            index = int(action.rsplit("_", 1)[1])
            if 0 <= index < len(draft["files"]):
                draft["files"].pop(index)
            return step_page(request, session, user, 3)
        used = sum(int(f["size"]) for f in draft["files"])
        accepted, file_errors = check_documents(uploads, portal.knobs, len(draft["files"]), used)
        draft["files"].extend(doc.as_json() for doc in accepted)
        if file_errors:
            return step_page(request, session, user, 3, file_errors=file_errors)
    if action == "back":
        raise Redirect(PAYER.url(f"/auths/new/{max(1, step - 1)}"))
    if step == 1:
        errors = FieldErrors()
        read_auth_patient(form, errors, parse_us_date, today)
        if errors:
            return step_page(request, session, user, 1, errors)
    elif step == 2:
        errors = FieldErrors()
        read_auth_service(form, errors, parse_us_date)
        if errors:
            return step_page(request, session, user, 2, errors)
    elif step == 4:
        return submit(request, session, user)
    if step not in draft["done"]:
        draft["done"].append(step)
    raise Redirect(PAYER.url(f"/auths/new/{step + 1}"))


def submit(request: Request, session: Session, user: User) -> Response:
    portal = portal_of(request)
    draft = session.drafts.pop(DRAFT)
    now = portal.clock.now()
    errors = FieldErrors()
    patient = read_auth_patient(draft["forms"]["1"], errors, parse_us_date, now.date())
    service = read_auth_service(draft["forms"]["2"], errors, parse_us_date)
    if errors:  # the draft was valid step by step; a changed clock can still spoil a date
        raise Redirect(PAYER.url("/auths/new"))
    form = build_auth(patient, service, draft["notes"])
    auth = auths.submit(
        portal.state,
        payer=PAYER.key,
        username=user.username,
        form=form,
        now=now,
        files=draft["files"],
        always_pend=PAYER.always_pend_auths,
    )
    return render(
        request,
        PAYER,
        "acme/auth_detail.html",
        session=session,
        user=user,
        auth=auth,
        just_submitted=True,
        labels=DECISION_LABELS,
        expires=auths.expiration(auth),
        files=draft["files"],
    )
