"""Finding an Acme Health submission after a crash past the point of no return, so the task is
captured instead of submitted twice: claim status search, authorization lookup, appeal list.

Each returns True (found; `ctx.result` filled as the capture step would), False (the portal shows
no such submission) or None (the portal's answer could not be read).
"""

from __future__ import annotations

from typing import Any

from handlers.context import StepContext
from handlers.errors import PortalChanged
from handlers.portals.acme.auths import read_decision
from handlers.portals.acme.pages import ClaimSearch
from handlers.portals.acme.request_pages import AppealList, AuthDecisionPage, AuthLookup
from handlers.portals.acme.session import arrive, open_screen
from handlers.portals.common.formats import confirmation_time, iso_from_us, money, us_date
from handlers.portals.common.screens import text_of, texts_of

CLAIM_STATUSES = {"received": "acknowledged", "in process": "in_process"}
LOOKUP_DEPTH = 3  # the newest few requests of the member are checked against the task


async def find_claim_submission(ctx: StepContext) -> bool | None:
    fields = ctx.fields
    lines: list[dict[str, Any]] = list(fields["service_lines"])
    first = min(line["service_date"] for line in lines)
    total = f"{sum(float(line['charge']) for line in lines):.2f}"
    search = ClaimSearch(ctx.page)
    # Reaching the search (signing in again included) is retried like any step; only
    # the search itself can tell "cannot look it up".
    await open_screen(ctx, "claims/status", search.heading, what="claim status")
    try:
        await search.member_id.fill(fields["member_id"])
        await search.service_from.fill(us_date(first))
        await search.service_to.fill(us_date(first))
        await search.search.click()
        where = await arrive(
            ctx, {"found": search.rows, "none": search.no_results}, what="claim search results"
        )
    except PortalChanged:
        return None
    if where == "none":
        return False
    for row in await search.rows.all():  # newest first
        number, _patient, _date, billed, status = (await texts_of(row.get_by_role("cell")))[:5]
        if money(billed) == total:
            ctx.result.update(
                claim_number=number,
                claim_status=CLAIM_STATUSES.get(status.lower(), "accepted"),
                total_charge=total,
            )
            return True
    return False


async def find_authorization_submission(ctx: StepContext) -> bool | None:
    wanted = sorted((p["procedure_code"], int(p.get("units", 1))) for p in ctx.fields["procedures"])
    lookup = AuthLookup(ctx.page)
    # Reaching the search (signing in again included) is retried like any step; only
    # the search itself can tell "cannot look it up".
    await open_screen(ctx, "auths/lookup", lookup.heading, what="authorization lookup")
    try:
        await lookup.member_id.fill(ctx.fields["member_id"])
        await lookup.search.click()
        where = await arrive(ctx, {"found": lookup.rows, "none": lookup.no_results}, what="lookup results")
        if where == "none":
            return False
        references = [(await texts_of(row.get_by_role("cell")))[0] for row in await lookup.rows.all()]
        for reference in references[:LOOKUP_DEPTH]:
            screen = AuthDecisionPage(ctx.page)
            await open_screen(ctx, f"auths/{reference}", screen.reference_number, what="the authorization")
            if await _procedures(screen) == wanted and await _dates(screen) in (None, _wanted_dates(ctx)):
                ctx.result.update(await read_decision(ctx.page))
                return True
    except PortalChanged:
        return None
    return False


async def _procedures(screen: AuthDecisionPage) -> list[tuple[str, int]]:
    found = []
    for row in await screen.procedure_rows.all():
        cells = await texts_of(row.get_by_role("cell"))
        if len(cells) >= 2:
            found.append((cells[0], int(cells[1].split()[0])))
    return sorted(found)


async def _dates(screen: AuthDecisionPage) -> tuple[str | None, ...] | None:
    """The request's dates of service as ISO dates, or None where the page does not show them."""
    if not await screen.service_dates.count():
        return None
    return tuple(iso_from_us(part) for part in (await text_of(screen.service_dates)).split(" - "))


def _wanted_dates(ctx: StepContext) -> tuple[str | None, ...]:
    start = ctx.fields["service_from"]
    return (start, ctx.fields.get("service_to") or start)


async def find_appeal_submission(ctx: StepContext) -> bool | None:
    number = ctx.fields["original_claim_number"]
    listing = AppealList(ctx.page)
    # Reaching the search (signing in again included) is retried like any step; only
    # the search itself can tell "cannot look it up".
    await open_screen(ctx, "appeals", listing.heading, what="the appeal list")
    try:
        await listing.claim_number.fill(number)
        await listing.search.click()
        where = await arrive(ctx, {"found": listing.rows, "none": listing.no_results}, what="appeal results")
    except PortalChanged:
        return None
    if where == "none":
        return False
    tracking, _claim, submitted, status = (await texts_of(listing.rows.first.get_by_role("cell")))[:4]
    ctx.result.update(
        tracking_number=tracking or None,
        appeal_status="in_review" if status.lower() == "in review" else "received",
        **confirmation_time(submitted),
        original_claim_number=number,
    )
    return True
