"""Acme Health status checks: claim status (search by claim number or member + dates, then the
claim's detail page) and authorization status (lookup by reference, certification number or
member + procedure + dates, then the request's page). Read-only: nothing here submits anything."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Locator

from handlers.context import StepContext
from handlers.errors import InputProblem
from handlers.portals.acme.auths import read_decision
from handlers.portals.acme.pages import ClaimDetail, ClaimSearch
from handlers.portals.acme.request_pages import AuthDecisionPage, AuthLookup
from handlers.portals.acme.session import PORTAL, arrive, open_screen
from handlers.portals.common.claim_status import (
    adjustments,
    choose_claim,
    not_found,
    payment_method,
    settle_claim_status,
    status_category,
)
from handlers.portals.common.decisions import (
    authorization_not_found,
    letter_kind,
    settle_authorization_status,
)
from handlers.portals.common.formats import iso_from_us, money, us_date
from handlers.portals.common.problems import needs_input, summary_problems
from handlers.portals.common.screens import text_of, texts_of
from sops.types import DocumentKind

# The search forms' names for the task's fields (the shared table reads `claim_number` as an
# appeal's original claim).
CLAIM_SEARCH_FIELDS = {
    "original_claim_number": "claim_number",
    "service_from": "service_date_from",
    "service_to": "service_date_to",
}


async def open_claim_status_search(ctx: StepContext) -> None:
    await open_screen(ctx, "claims/status", ClaimSearch(ctx.page).heading, what="the claim status search")


async def search_claim_status(ctx: StepContext) -> None:
    search, fields = ClaimSearch(ctx.page), ctx.fields
    number = fields.get("claim_number")
    if number:
        await search.claim_number.fill(number)
    else:
        first = fields["service_date_from"]
        await search.member_id.fill(fields["member_id"])
        await search.service_from.fill(us_date(first))
        await search.service_to.fill(us_date(fields.get("service_date_to") or first))
        await search.billing_npi.fill(fields.get("billing_npi") or "")
    await search.search.click()
    screens = {"found": search.rows, "none": search.no_results, "errors": search.errors}
    where = await arrive(ctx, screens, what="the claim search results")
    if where == "errors":
        problems = await summary_problems(search.errors, ctx.page, default_field="claim_number")
        raise needs_input(PORTAL, _renamed(problems))
    numbers = [] if where == "none" else [cells[0] for cells in await _cells(search.rows)]
    chosen = choose_claim(numbers, number)
    if chosen is None:
        not_found(ctx, await text_of(search.no_results) if where == "none" else "No claim with that number.")
        return
    await search.claim(chosen).click()
    await arrive(ctx, {"claim": ClaimDetail(ctx.page).claim_number}, what="the claim's page")


async def read_claim_status(ctx: StepContext) -> None:
    page = ClaimDetail(ctx.page)
    paid = money(await _shown(page.paid_amount) or "")
    result: dict[str, Any] = {
        "claim_number": await text_of(page.claim_number),
        "claim_status": await text_of(page.status),
        "status_category": status_category(await _shown(page.status_category) or "", paid_amount=paid),
        "total_charge": money(await text_of(page.total_charge)),
        "paid_amount": paid,
        "paid_date": iso_from_us(await _shown(page.paid_date) or ""),
        "payment_method": payment_method(await _shown(page.payment_method) or ""),
        "payment_number": await _shown(page.payment_number),
        "denial_reason": await _shown(page.denial_reason),
        **adjustments(await _cells(page.adjustment_rows)),
    }
    settle_claim_status(ctx, {key: value for key, value in result.items() if value not in (None, [])})
    if await page.eob.count():  # a finalized claim's EOB: evidence for the clerk, never the outcome
        await ctx.documents.download(page.eob, kind=DocumentKind.EOB)


async def open_authorization_status_search(ctx: StepContext) -> None:
    await open_screen(ctx, "auths/lookup", AuthLookup(ctx.page).heading, what="the authorization lookup")


async def search_authorization_status(ctx: StepContext) -> None:
    lookup, fields = AuthLookup(ctx.page), ctx.fields
    reference = fields.get("reference_number")
    if reference:
        await lookup.reference_number.fill(reference)
    elif fields.get("certification_number"):
        await lookup.certification_number.fill(fields["certification_number"])
    else:
        start = fields["service_from"]
        await lookup.member_id.fill(fields["member_id"])
        await lookup.procedure_code.fill(fields["procedure_code"])
        await lookup.service_from.fill(us_date(start))
        await lookup.service_to.fill(us_date(fields.get("service_to") or start))
    await lookup.search.click()
    screens = {"found": lookup.rows, "none": lookup.no_results, "errors": lookup.errors}
    where = await arrive(ctx, screens, what="the authorization lookup results")
    if where == "errors":
        raise needs_input(
            PORTAL, await summary_problems(lookup.errors, ctx.page, default_field="reference_number")
        )
    if where == "none":
        authorization_not_found(ctx, await text_of(lookup.no_results))
        return
    references = [cells[0] for cells in await _cells(lookup.rows)]  # newest first
    chosen = reference if reference in references else references[0]
    await lookup.request(chosen).click()
    await arrive(ctx, {"request": AuthDecisionPage(ctx.page).reference_number}, what="the authorization")


async def read_authorization_status(ctx: StepContext) -> None:
    ctx.result.update(await read_decision(ctx.page))
    screen = AuthDecisionPage(ctx.page)
    decided = iso_from_us(await _shown(screen.decision_date) or "")
    if decided:
        ctx.result["decision_date"] = decided
    settle_authorization_status(ctx)
    if await screen.letter.count():  # the decision letter: evidence for the clerk, never the outcome
        await ctx.documents.download(screen.letter, kind=letter_kind(ctx.result.get("decision")))


async def _shown(locator: Locator) -> str | None:
    """The text of an element the page shows only in some states (a paid date, a denial reason)."""
    if not await locator.count():
        return None
    return await text_of(locator) or None


async def _cells(rows: Locator) -> list[list[str]]:
    return [await texts_of(row.get_by_role("cell")) for row in await rows.all()]


def _renamed(problems: list[InputProblem]) -> list[InputProblem]:
    return [InputProblem(CLAIM_SEARCH_FIELDS.get(p.field, p.field), p.message) for p in problems]
