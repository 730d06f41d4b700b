"""Acme Health status checks: claim status (search by claim number or member + dates, then the
claim's detail page) and authorization status (lookup by reference, certification number or
member + procedure + dates, then the request's page). The steps are the common ones
(handlers/portals/common/status.py), given Acme's page objects and words."""

from __future__ import annotations

from handlers.context import StepContext
from handlers.portals.acme.auths import read_decision
from handlers.portals.acme.pages import ClaimDetail, ClaimSearch
from handlers.portals.acme.request_pages import AuthDecisionPage, AuthLookup
from handlers.portals.acme.session import PORTAL, arrive, open_screen
from handlers.portals.common import status
from handlers.portals.common.formats import iso_from_us, us_date

STATUS = status.StatusPortal(
    name=PORTAL,
    root=lambda page: page,
    arrive=arrive,
    form_date=us_date,
    page_date=iso_from_us,
    claim_results="the claim search results",
    claim_page="the claim's page",
    no_such_claim="No claim with that number.",
    auth_results="the authorization lookup results",
    auth_page="the authorization",
)


async def open_claim_status_search(ctx: StepContext) -> None:
    await open_screen(ctx, "claims/status", ClaimSearch(ctx.page).heading, what="the claim status search")


async def search_claim_status(ctx: StepContext) -> None:
    search = ClaimSearch(ctx.page)
    opened = ClaimDetail(ctx.page).claim_number
    await status.search_claim_status(ctx, STATUS, search, search.claim_number, search.claim, opened)


async def read_claim_status(ctx: StepContext) -> None:
    page = ClaimDetail(ctx.page)
    await status.read_claim_status(ctx, STATUS, page, page.claim_number, page.eob)


async def open_authorization_status_search(ctx: StepContext) -> None:
    await open_screen(ctx, "auths/lookup", AuthLookup(ctx.page).heading, what="the authorization lookup")


async def search_authorization_status(ctx: StepContext) -> None:
    lookup = AuthLookup(ctx.page)
    opened = AuthDecisionPage(ctx.page).reference_number
    await status.search_authorization_status(
        ctx, STATUS, lookup, lookup.reference_number, lookup.request, opened
    )


async def read_authorization_status(ctx: StepContext) -> None:
    decision = await read_decision(ctx.page)
    await status.read_authorization_status(ctx, STATUS, AuthDecisionPage(ctx.page), decision)
