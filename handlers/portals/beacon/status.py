"""Beacon Exchange status checks, inside the workspace iframe: claim status inquiry (by claim ID
or member + dates, then the claim's detail) and authorization status (by case or certification
number, or member + procedure + dates, then the case page). Read-only: nothing is submitted."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Locator

from handlers.context import StepContext
from handlers.errors import InputProblem
from handlers.portals.beacon.auths import read_case
from handlers.portals.beacon.pages import ClaimDetail, ClaimStatusInquiry
from handlers.portals.beacon.request_pages import AuthCase, AuthStatusInquiry
from handlers.portals.beacon.screens import Shell
from handlers.portals.beacon.session import PORTAL, in_frame, open_workspace
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
from handlers.portals.common.formats import money
from handlers.portals.common.problems import needs_input, summary_problems
from handlers.portals.common.screens import text_of, texts_of
from sops.types import DocumentKind

# The inquiry forms' names for the task's fields (the shared table reads `claim_number` as an
# appeal's original claim).
SEARCH_FIELDS = {
    "original_claim_number": "claim_number",
    "service_from": "service_date_from",
    "service_to": "service_date_to",
}


async def open_claim_status_search(ctx: StepContext) -> None:
    await open_workspace(ctx, "claim-status", ClaimStatusInquiry(Shell(ctx.page).frame).heading)


async def search_claim_status(ctx: StepContext) -> None:
    frame, fields = Shell(ctx.page).frame, ctx.fields
    inquiry = ClaimStatusInquiry(frame)
    number = fields.get("claim_number")
    if number:
        await inquiry.claim_id.fill(number)
    else:
        first = fields["service_date_from"]
        await inquiry.member_id.fill(fields["member_id"])
        await inquiry.service_from.fill(first)  # date inputs take ISO dates
        await inquiry.service_to.fill(fields.get("service_date_to") or first)
        await inquiry.billing_npi.fill(fields.get("billing_npi") or "")
    await inquiry.search.click()
    screens = {"found": inquiry.rows, "none": inquiry.no_results, "errors": inquiry.errors}
    where = await in_frame(ctx, screens, what="the claim status results")
    if where == "errors":
        problems = await summary_problems(inquiry.errors, frame, default_field="claim_number")
        raise needs_input(
            PORTAL, [InputProblem(SEARCH_FIELDS.get(p.field, p.field), p.message) for p in problems]
        )
    numbers = [] if where == "none" else [cells[0] for cells in await _cells(inquiry.rows)]
    chosen = choose_claim(numbers, number)
    if chosen is None:
        message = await text_of(inquiry.no_results) if where == "none" else "No claim with that ID."
        not_found(ctx, message)
        return
    await inquiry.view(chosen).click()
    await in_frame(ctx, {"claim": ClaimDetail(frame).claim_id}, what="the claim's detail")


async def read_claim_status(ctx: StepContext) -> None:
    page = ClaimDetail(Shell(ctx.page).frame)
    paid = money(await _shown(page.paid_amount) or "")
    result: dict[str, Any] = {
        "claim_number": await text_of(page.claim_id),
        "claim_status": await text_of(page.status),
        "status_category": status_category(await _shown(page.status_category) or "", paid_amount=paid),
        "total_charge": money(await text_of(page.total_charge)),
        "paid_amount": paid,
        "paid_date": await _shown(page.paid_date),
        "payment_method": payment_method(await _shown(page.payment_method) or ""),
        "payment_number": await _shown(page.payment_number),
        "denial_reason": await _shown(page.denial_reason),
        **adjustments(await _cells(page.adjustment_rows)),
    }
    settle_claim_status(ctx, {key: value for key, value in result.items() if value not in (None, [])})
    if await page.remittance.count():  # the remittance advice: evidence for the clerk, never the outcome
        await ctx.documents.download(page.remittance, kind=DocumentKind.EOB)


async def open_authorization_status_search(ctx: StepContext) -> None:
    # The case page has the same heading as the search: wait for the search form itself.
    await open_workspace(ctx, "auth-status", AuthStatusInquiry(Shell(ctx.page).frame).form)


async def search_authorization_status(ctx: StepContext) -> None:
    frame, fields = Shell(ctx.page).frame, ctx.fields
    inquiry = AuthStatusInquiry(frame)
    reference = fields.get("reference_number")
    if reference:
        await inquiry.case_number.fill(reference)
    elif fields.get("certification_number"):
        await inquiry.certification_number.fill(fields["certification_number"])
    else:
        start = fields["service_from"]
        await inquiry.member_id.fill(fields["member_id"])
        await inquiry.procedure_code.fill(fields["procedure_code"])
        await inquiry.service_from.fill(start)
        await inquiry.service_to.fill(fields.get("service_to") or start)
    await inquiry.search.click()
    screens = {"found": inquiry.rows, "none": inquiry.no_results, "errors": inquiry.errors}
    where = await in_frame(ctx, screens, what="the authorization status results")
    if where == "errors":
        problems = await summary_problems(inquiry.errors, frame, default_field="reference_number")
        raise needs_input(PORTAL, problems)
    if where == "none":
        authorization_not_found(ctx, await text_of(inquiry.no_results))
        return
    cases = [cells[0] for cells in await _cells(inquiry.rows)]  # newest first
    chosen = reference if reference in cases else cases[0]
    await inquiry.view(chosen).click()
    await in_frame(ctx, {"case": AuthCase(frame).case_number}, what="the case page")


async def read_authorization_status(ctx: StepContext) -> None:
    frame = Shell(ctx.page).frame
    ctx.result.update(await read_case(frame))
    case = AuthCase(frame)
    decided = await _shown(case.decision_date)
    if decided:
        ctx.result["decision_date"] = decided
    settle_authorization_status(ctx)
    if await case.letter.count():  # the decision letter: evidence for the clerk, never the outcome
        await ctx.documents.download(case.letter, kind=letter_kind(ctx.result.get("decision")))


async def _shown(locator: Locator) -> str | None:
    """The text of an element the page shows only in some states (a paid date, a denial reason)."""
    if not await locator.count():
        return None
    return await text_of(locator) or None


async def _cells(rows: Locator) -> list[list[str]]:
    return [await texts_of(row.get_by_role("cell")) for row in await rows.all()]
