"""Finding a Beacon Exchange submission after a crash past the point of no return: claim status
search, authorization status search, the dispute list by claim ID (disputes have no number).

Each returns True (found; `ctx.result` filled as the capture step would), False (the portal shows
no such submission) or None (the portal's answer could not be read).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from handlers.context import StepContext
from handlers.errors import PortalChanged
from handlers.portals.beacon.auths import read_case
from handlers.portals.beacon.pages import ClaimStatusInquiry
from handlers.portals.beacon.request_pages import AuthCase, AuthStatusInquiry, DisputeList
from handlers.portals.beacon.session import in_frame, open_workspace
from handlers.portals.common.formats import confirmation_time, money
from handlers.portals.common.screens import text_of, texts_of

CLAIM_STATUSES = {"acknowledged": "acknowledged", "in process": "in_process"}
LOOKUP_DEPTH = 3


async def find_claim_submission(ctx: StepContext) -> bool | None:
    lines: list[dict[str, Any]] = list(ctx.fields["service_lines"])
    first = min(line["service_date"] for line in lines)
    total = f"{sum(float(line['charge']) for line in lines):.2f}"
    query = urlencode({"member_id": ctx.fields["member_id"], "service_from": first, "service_to": first})
    # Reaching the search (signing in again included) is retried like any step; only
    # the search itself can tell "cannot look it up".
    inquiry = ClaimStatusInquiry(await open_workspace(ctx, f"claim-status?{query}"))
    try:
        where = await in_frame(ctx, {"found": inquiry.rows, "none": inquiry.no_results}, what="claim search")
    except PortalChanged:
        return None
    if where == "none":
        return False
    for row in await inquiry.rows.all():  # newest first
        number, _patient, _date, charges, status = (await texts_of(row.get_by_role("cell")))[:5]
        if money(charges) == total:
            ctx.result.update(
                claim_number=number,
                claim_status=CLAIM_STATUSES.get(status.lower(), "accepted"),
                total_charge=total,
            )
            return True
    return False


async def find_authorization_submission(ctx: StepContext) -> bool | None:
    wanted = sorted((p["procedure_code"], int(p.get("units", 1))) for p in ctx.fields["procedures"])
    # Reaching the search (signing in again included) is retried like any step; only
    # the search itself can tell "cannot look it up".
    frame = await open_workspace(ctx, "auth-status?" + urlencode({"member_id": ctx.fields["member_id"]}))
    try:
        inquiry = AuthStatusInquiry(frame)
        where = await in_frame(ctx, {"found": inquiry.rows, "none": inquiry.no_results}, what="auth search")
        if where == "none":
            return False
        cases = [(await texts_of(row.get_by_role("cell")))[0] for row in await inquiry.rows.all()]
        for case_number in cases[:LOOKUP_DEPTH]:
            frame = await open_workspace(ctx, "auth-status?" + urlencode({"reference_number": case_number}))
            await AuthStatusInquiry(frame).view(case_number).click()
            case = AuthCase(frame)
            await in_frame(ctx, {"case": case.case_number}, what="the case page")
            if await _procedures(case) == wanted and await _dates(case) in (None, _wanted_dates(ctx)):
                ctx.result.update(await read_case(frame))
                return True
    except PortalChanged:
        return None
    return False


async def _procedures(case: AuthCase) -> list[tuple[str, int]]:
    found = []
    for row in await case.procedure_rows.all():
        cells = await texts_of(row.get_by_role("cell"))
        if len(cells) >= 2:
            found.append((cells[0], int(cells[1].split()[0])))
    return sorted(found)


async def _dates(case: AuthCase) -> tuple[str, ...] | None:
    """The request's service dates (ISO), or None where the page does not show them."""
    if not await case.service_dates.count():
        return None
    return tuple(part.strip() for part in (await text_of(case.service_dates)).split(" to "))


def _wanted_dates(ctx: StepContext) -> tuple[str, ...]:
    start = ctx.fields["service_from"]
    return (start, ctx.fields.get("service_to") or start)


async def find_appeal_submission(ctx: StepContext) -> bool | None:
    number = ctx.fields["original_claim_number"]
    # Reaching the search (signing in again included) is retried like any step; only
    # the search itself can tell "cannot look it up".
    listing = DisputeList(await open_workspace(ctx, "disputes?" + urlencode({"claim_number": number})))
    try:
        where = await in_frame(ctx, {"found": listing.rows, "none": listing.no_results}, what="dispute list")
    except PortalChanged:
        return None
    if where == "none":
        return False
    _claim, received, _reason, status = (await texts_of(listing.rows.first.get_by_role("cell")))[:4]
    ctx.result.update(
        appeal_status="in_review" if status.lower() == "in review" else "received",
        **confirmation_time(received),
        original_claim_number=number,
    )
    return True
