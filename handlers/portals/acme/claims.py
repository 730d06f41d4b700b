"""Acme Health claim steps: open the CMS-1500 form, fill it, submit (the point of no return) and
capture the claim number. Acme blocks exact duplicates outright (or warns, when so configured)."""

from __future__ import annotations

from typing import Any

from handlers.context import StepContext
from handlers.portals.acme.pages import ClaimDuplicateWarning, ClaimForm, ClaimResultPage
from handlers.portals.acme.session import PORTAL, arrive, open_screen, sign_in
from handlers.portals.common.documents import confirmation_name
from handlers.portals.common.formats import confirmation_time, money, us_date
from handlers.portals.common.forms import fill_boxes
from handlers.portals.common.problems import needs_input, summary_problems
from handlers.portals.common.screens import choose_option, text_of, texts_of
from sops.types import Outcome

SLOTS = "ABCDEFGHIJKL"
VISIBLE_SLOTS = 4  # E-L sit in a collapsed "More diagnosis codes" section


async def open_claim_form(ctx: StepContext) -> None:
    await open_screen(ctx, "claims/new", ClaimForm(ctx.page).heading, what="the claim form")


async def fill_claim(ctx: StepContext) -> None:
    form, fields = ClaimForm(ctx.page), ctx.fields
    lines: list[dict[str, Any]] = list(fields["service_lines"])
    # "Add service line" posts the form and renders it again with one more row: add every row
    # first, then type, so nothing typed depends on surviving a round trip.
    while await form.lines.count() < len(lines):
        count = await form.lines.count()
        await form.add_line.click()
        await arrive(ctx, {"form": form.line(count + 1)}, what="a new service line")
    codes: list[str] = list(fields["diagnosis_codes"])
    if len(codes) > VISIBLE_SLOTS and not await form.diagnosis("E").is_visible():
        await form.more_diagnoses.click()
    await fill_boxes(
        [
            (form.member_id, fields["member_id"]),
            (form.first_name, fields["patient_first_name"]),
            (form.last_name, fields["patient_last_name"]),
            (form.date_of_birth, us_date(fields["date_of_birth"])),
            (form.account_number, fields.get("patient_account_number") or ""),
            (form.billing_npi, fields["billing_npi"]),
            (form.tax_id, fields["tax_id"]),
            (form.rendering_npi, fields.get("rendering_npi") or ""),
            *((form.diagnosis(slot), code) for slot, code in zip(SLOTS, codes, strict=False)),
            *(box for number, line in enumerate(lines, start=1) for box in form.line_boxes(number, line)),
            (form.original_claim, fields.get("original_claim_number") or ""),
            (form.prior_auth, fields.get("prior_auth_number") or ""),
        ]
    )
    for number, line in enumerate(lines, start=1):
        pos = line["place_of_service"]
        await choose_option(form.place_of_service(number), pos, field="service_lines", portal=PORTAL)
    await choose_option(
        form.frequency, fields.get("resubmission_code") or "1", field="resubmission_code", portal=PORTAL
    )


async def submit_claim(ctx: StepContext) -> None:
    """Click "Submit claim" — the point of no return — and settle what the portal answered.

    If the session ended while the form was open, the portal answers the post with its sign-in
    page and has not taken the claim: sign in, fill the form again and submit once more.
    """
    form = ClaimForm(ctx.page)
    await form.submit.click()
    where = await _answer(ctx, signed_out_ok=True)
    if where == "signed_out":
        ctx.log.info("session ended before the claim was taken; signing in again", extra={"portal": "acme"})
        await sign_in(ctx)
        await open_claim_form(ctx)
        await fill_claim(ctx)
        await form.submit.click()
        where = await _answer(ctx)
    result = ClaimResultPage(ctx.page)
    if where == "rejected":
        reasons = await texts_of(result.reasons)
        trace = await text_of(result.trace_number)
        ctx.fail(
            f"{PORTAL} rejected the claim ({'; '.join(reasons)})",
            claim_status="rejected",
            rejection_reasons=reasons,
            reference_number=trace,
            **confirmation_time(await text_of(result.submitted_at)),
        )
        # The payer's answer to a submission all the same: the clerk keeps the rejection too.
        await ctx.documents.save_page_pdf(
            ctx.page, filename=confirmation_name("claim", trace, page="rejection")
        )
    elif where in ("blocked", "warning"):
        existing = await text_of(form.duplicate_of)
        if where == "warning":
            # Soft duplicate: do not "Submit anyway"; the payer already has this claim.
            await ClaimDuplicateWarning(ctx.page).cancel.click()
        ctx.finish(
            Outcome.COMPLETED_WITH_ISSUES,
            claim_status="duplicate",
            duplicate_of=existing,
            payer_message=f"{PORTAL} already has this claim as {existing}.",
        )
    elif where == "errors":
        raise needs_input(
            PORTAL, await summary_problems(form.errors, ctx.page, default_field="service_lines")
        )


async def _answer(ctx: StepContext, *, signed_out_ok: bool = False) -> str:
    form, result = ClaimForm(ctx.page), ClaimResultPage(ctx.page)
    screens = {
        "accepted": result.accepted,
        "rejected": result.rejected,
        "blocked": form.duplicate_blocked,
        "warning": ClaimDuplicateWarning(ctx.page).warning,
        "errors": form.errors,
    }
    return await arrive(ctx, screens, what="the claim confirmation", signed_out_ok=signed_out_ok)


async def capture_claim_number(ctx: StepContext) -> None:
    """Read the confirmation and keep it as a PDF; after a reconciliation the number is already
    known (nothing to read, and the page is not the confirmation)."""
    if not ctx.result.get("claim_number"):
        page = ClaimResultPage(ctx.page)
        ctx.result.update(
            claim_number=await text_of(page.claim_number),
            claim_status="accepted",
            **confirmation_time(await text_of(page.submitted_at)),
            total_charge=money(await text_of(page.total_charge)),
        )
        await ctx.documents.save_page_pdf(
            ctx.page, filename=confirmation_name("claim", ctx.result.get("claim_number"))
        )
    ctx.finish(Outcome.COMPLETED)
