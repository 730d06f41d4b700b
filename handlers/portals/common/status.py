"""The status check steps every portal shares: search for a claim or an authorization, open it,
read its page. Read-only: nothing here submits anything.

Each portal's status.py gives its page objects (read through the protocols below; the number
field, the row links and the download are named by the portal, so they come separately) and a
`StatusPortal`: where its screens live (Beacon's in an iframe), how it waits for them, its dates
and its words.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from playwright.async_api import FrameLocator, Locator, Page

from handlers.context import StepContext
from handlers.errors import InputProblem
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
from handlers.portals.common.forms import fill_boxes
from handlers.portals.common.problems import needs_input, summary_problems
from handlers.portals.common.screens import text_of, texts_of
from sops.types import DocumentKind

# The claim search forms' names for the task's fields (the shared table reads `claim_number` as an
# appeal's original claim).
CLAIM_SEARCH_FIELDS = {
    "original_claim_number": "claim_number",
    "service_from": "service_date_from",
    "service_to": "service_date_to",
}


class Arrive(Protocol):
    """Wait for one of `screens` (raising the portal's hazards); the key of the one shown."""

    async def __call__(self, ctx: StepContext, screens: Mapping[str, Locator], *, what: str) -> str: ...


@dataclass(frozen=True)
class StatusPortal:
    """A portal as the status steps see it. The words name the screens waited for (a timeout's
    message says which did not show)."""

    name: str
    root: Callable[[Page], Page | FrameLocator]  # where the status screens live
    arrive: Arrive
    form_date: Callable[[str], str]  # an ISO date as the search forms take it
    page_date: Callable[[str], str | None]  # a date as the pages show it, as ISO
    claim_results: str
    claim_page: str
    no_such_claim: str  # the payer_message when the results do not list the task's claim
    auth_results: str
    auth_page: str


class SearchForm(Protocol):
    member_id: Locator
    service_from: Locator
    service_to: Locator
    search: Locator
    rows: Locator
    no_results: Locator
    errors: Locator


class ClaimSearchForm(SearchForm, Protocol):
    billing_npi: Locator


class AuthSearchForm(SearchForm, Protocol):
    certification_number: Locator
    procedure_code: Locator


class ClaimPage(Protocol):
    status: Locator
    status_category: Locator
    total_charge: Locator
    paid_amount: Locator
    paid_date: Locator
    payment_method: Locator
    payment_number: Locator
    denial_reason: Locator
    adjustment_rows: Locator


class AuthPage(Protocol):
    decision_date: Locator
    letter: Locator


async def search_claim_status(
    ctx: StepContext,
    portal: StatusPortal,
    form: ClaimSearchForm,
    number_field: Locator,
    link: Callable[[str], Locator],
    opened: Locator,
) -> None:
    """Search by claim number, or member + dates (+ billing NPI); open the claim (`opened` shows)."""
    fields = ctx.fields
    number = fields.get("claim_number")
    if number:
        await number_field.fill(number)
    else:
        first = fields["service_date_from"]
        await fill_boxes(
            [
                (form.member_id, fields["member_id"]),
                (form.service_from, portal.form_date(first)),
                (form.service_to, portal.form_date(fields.get("service_date_to") or first)),
                (form.billing_npi, fields.get("billing_npi") or ""),
            ]
        )
    where = await _results(ctx, portal, form, portal.claim_results)
    if where == "errors":
        problems = await summary_problems(form.errors, portal.root(ctx.page), default_field="claim_number")
        renamed = [InputProblem(CLAIM_SEARCH_FIELDS.get(p.field, p.field), p.message) for p in problems]
        raise needs_input(portal.name, renamed)
    numbers = [] if where == "none" else [cells[0] for cells in await _cells(form.rows)]
    chosen = choose_claim(numbers, number)
    if chosen is None:
        not_found(ctx, await text_of(form.no_results) if where == "none" else portal.no_such_claim)
        return
    if number is None and len(numbers) > 1:
        # Several claims of the member in those dates (a corrected claim, two visits): the newest
        # is read, and the task says which others there are.
        others = ", ".join(numbers[1:])
        ctx.note(
            f"{len(numbers)} claims match the member and dates; this is the newest ({chosen}). "
            f"Give a claim_number to check another: {others}."
        )
    await link(chosen).click()
    await portal.arrive(ctx, {"claim": opened}, what=portal.claim_page)


async def read_claim_status(
    ctx: StepContext, portal: StatusPortal, page: ClaimPage, number: Locator, statement: Locator
) -> None:
    """Settle the task from the claim's page; download its EOB or remittance advice if it has one."""
    paid = money(await _shown(page.paid_amount) or "")
    result: dict[str, Any] = {
        "claim_number": await text_of(number),
        "claim_status": await text_of(page.status),
        "status_category": status_category(await _shown(page.status_category) or "", paid_amount=paid),
        "total_charge": money(await text_of(page.total_charge)),
        "paid_amount": paid,
        "paid_date": await _shown_date(portal, page.paid_date),
        "payment_method": payment_method(await _shown(page.payment_method) or ""),
        "payment_number": await _shown(page.payment_number),
        "denial_reason": await _shown(page.denial_reason),
        **adjustments(await _cells(page.adjustment_rows)),
    }
    settle_claim_status(ctx, {key: value for key, value in result.items() if value not in (None, [])})
    if await statement.count():  # evidence for the clerk, never the outcome
        await ctx.documents.download(statement, kind=DocumentKind.EOB)


async def search_authorization_status(
    ctx: StepContext,
    portal: StatusPortal,
    form: AuthSearchForm,
    number_field: Locator,
    link: Callable[[str], Locator],
    opened: Locator,
) -> None:
    """Search by reference (case) or certification number, or member + procedure + dates; open
    the request (`opened` shows)."""
    fields = ctx.fields
    reference = fields.get("reference_number")
    if reference:
        await number_field.fill(reference)
    elif fields.get("certification_number"):
        await form.certification_number.fill(fields["certification_number"])
    else:
        start = fields["service_from"]
        await form.member_id.fill(fields["member_id"])
        await form.procedure_code.fill(fields["procedure_code"])
        await form.service_from.fill(portal.form_date(start))
        await form.service_to.fill(portal.form_date(fields.get("service_to") or start))
    where = await _results(ctx, portal, form, portal.auth_results)
    if where == "errors":
        root = portal.root(ctx.page)
        raise needs_input(
            portal.name, await summary_problems(form.errors, root, default_field="reference_number")
        )
    if where == "none":
        authorization_not_found(ctx, await text_of(form.no_results))
        return
    references = [cells[0] for cells in await _cells(form.rows)]  # newest first
    await link(reference if reference in references else references[0]).click()
    await portal.arrive(ctx, {"request": opened}, what=portal.auth_page)


async def read_authorization_status(
    ctx: StepContext, portal: StatusPortal, page: AuthPage, decision: dict[str, Any]
) -> None:
    """Settle the task from the request's page (`decision`: what the portal's reader made of it);
    download its decision letter if it has one."""
    ctx.result.update(decision)
    decided = await _shown_date(portal, page.decision_date)
    if decided:
        ctx.result["decision_date"] = decided
    settle_authorization_status(ctx)
    if await page.letter.count():  # the decision letter: evidence for the clerk, never the outcome
        await ctx.documents.download(page.letter, kind=letter_kind(ctx.result.get("decision")))


async def _results(ctx: StepContext, portal: StatusPortal, form: SearchForm, what: str) -> str:
    await form.search.click()
    return await portal.arrive(
        ctx, {"found": form.rows, "none": form.no_results, "errors": form.errors}, what=what
    )


async def _shown(locator: Locator) -> str | None:
    """The text of an element the page shows only in some states (a paid date, a denial reason)."""
    if not await locator.count():
        return None
    return await text_of(locator) or None


async def _shown_date(portal: StatusPortal, locator: Locator) -> str | None:
    shown = await _shown(locator)
    return portal.page_date(shown) if shown else None


async def _cells(rows: Locator) -> list[list[str]]:
    return [await texts_of(row.get_by_role("cell")) for row in await rows.all()]
