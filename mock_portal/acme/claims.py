"""Acme claims: a single-page CMS-1500 form ("Add service line" by server round-trip) and the
confirmation (the status search and detail are in claim_status.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mock_portal.access import portal_of, signed_in
from mock_portal.acme.claim_status import STATUS_LABELS
from mock_portal.claim_form import LINE_FIELDS, MAX_LINES, line_count, parse_claim
from mock_portal.forms import form_dict
from mock_portal.models import User
from mock_portal.pages import render
from mock_portal.payers import ACME as PAYER
from mock_portal.sessions import Session
from mock_portal.validation import PLACES_OF_SERVICE, FieldErrors, parse_us_date
from mock_portal.workflows import claims
from mock_portal.workflows.claims import ClaimOutcome

POS_OPTIONS = [(code, f"{code} - {name}") for code, name in PLACES_OF_SERVICE.items()]
RESUBMISSION = [
    ("1", "1 - Original claim"),
    ("7", "7 - Replacement of prior claim"),
    ("8", "8 - Void/cancel of prior claim"),
]


def _remove_line(form: dict[str, str], index: int) -> dict[str, str]:
    count = line_count(form)
    out = {k: val for k, val in form.items() if not k.startswith("line_")}
    target = 0
    for i in range(count):
        if i == index:
            continue
        for field in LINE_FIELDS:
            out[f"line_{target}_{field}"] = form.get(f"line_{i}_{field}", "")
        target += 1
    out["line_count"] = str(max(1, target))
    return out


router = APIRouter(prefix=PAYER.base_path)


def form_page(request: Request, session: Session, user: User, form: dict[str, str], **extra: Any) -> Response:
    return render(
        request,
        PAYER,
        "acme/claim_form.html",
        session=session,
        user=user,
        form=form,
        lines=range(line_count(form)),
        pos_options=POS_OPTIONS,
        resubmission=RESUBMISSION,
        **extra,
    )


@router.get("/claims/new")
def new_claim(request: Request) -> Response:
    session, user = signed_in(request, PAYER)
    return form_page(request, session, user, {"line_count": "1", "resubmission_code": "1"})


@router.post("/claims/new")
async def submit_claim(request: Request) -> Response:
    session, user = signed_in(request, PAYER)
    portal = portal_of(request)
    form = form_dict(await request.form())
    action = form.pop("action", "submit")
    if action == "add_line":
        form["line_count"] = str(min(MAX_LINES, line_count(form) + 1))
        return form_page(request, session, user, form)
    if action.startswith("remove_line_"):
        return form_page(request, session, user, _remove_line(form, int(action.rsplit("_", 1)[1])))
    now = portal.clock.now()
    parsed = parse_claim(form, parse_us_date, now.date(), PAYER.timely_filing_days)
    if isinstance(parsed, FieldErrors):
        return form_page(request, session, user, form, errors=parsed)
    result = claims.submit(
        portal.state,
        payer=PAYER.key,
        username=user.username,
        form=parsed,
        now=now,
        duplicate_mode=portal.duplicate_mode(PAYER),
        confirmed_duplicate=form.get("confirm_duplicate") == "yes",
    )
    if result.outcome is ClaimOutcome.DUPLICATE_BLOCKED:
        errors = FieldErrors()
        errors.add("member_id", f"This claim duplicates claim {result.duplicate_of}, already on file.")
        return form_page(request, session, user, form, errors=errors, duplicate_of=result.duplicate_of)
    if result.outcome is ClaimOutcome.DUPLICATE_WARNING:
        hidden = {k: val for k, val in form.items() if k != "confirm_duplicate"}
        return render(
            request,
            PAYER,
            "acme/claim_duplicate.html",
            session=session,
            user=user,
            hidden=hidden,
            duplicate_of=result.duplicate_of,
        )
    return render(
        request,
        PAYER,
        "acme/claim_result.html",
        session=session,
        user=user,
        result=result,
        claim_form=parsed,
        labels=STATUS_LABELS,
    )
