"""Acme Health appeal steps: find the claim (only a denied claim offers "File appeal"), fill the
appeal, attach documents, submit (point of no return) and capture the tracking number."""

from __future__ import annotations

from handlers.context import StepContext
from handlers.portals.acme.pages import ClaimDetail, ClaimSearch
from handlers.portals.acme.request_pages import AppealForm, AppealReceived
from handlers.portals.acme.session import PORTAL, arrive, open_screen, sign_in
from handlers.portals.common.documents import confirmation_name, document_problems, file_payloads
from handlers.portals.common.formats import appeal_reason, confirmation_time, us_date
from handlers.portals.common.problems import file_problems, needs_input, summary_problems
from handlers.portals.common.screens import text_of, texts_of
from sops.types import Outcome

REASONS = {"corrected_coding", "medical_necessity", "timely_filing", "bundling", "other"}
STATUSES = {"received": "received", "in review": "in_review", "decided": "decided"}


async def find_claim(ctx: StepContext) -> None:
    number = ctx.fields["original_claim_number"]
    search = ClaimSearch(ctx.page)
    await open_screen(ctx, "claims/status", search.heading, what="claim status")
    await search.claim_number.fill(number)
    await search.search.click()
    where = await arrive(ctx, {"found": search.rows, "none": search.no_results}, what="claim search results")
    if where == "none":
        ctx.fail(f"{PORTAL} has no claim {number}", original_claim_number=number)
        return
    await search.rows.first.get_by_role("link", name=number).click()
    detail = ClaimDetail(ctx.page)
    await arrive(ctx, {"detail": detail.claim_number}, what="the claim")
    form = AppealForm(ctx.page)
    if await detail.appeal_on_file.count():
        # "Appeal on file: APL-2026-000017 (In review)", or "received" for one without a number.
        on_file = (await text_of(detail.appeal_on_file.first)).removeprefix("Appeal on file: ")
        tracking, _, status = on_file.partition(" (")
        ctx.finish(
            Outcome.COMPLETED_WITH_ISSUES,
            original_claim_number=number,
            tracking_number=tracking if tracking.lower() != "received" else None,
            appeal_status=STATUSES.get(status.rstrip(")").lower()),
            payer_message=f"an appeal is already on file ({on_file}), so none was filed again",
        )
        return
    if not await detail.file_appeal.count():
        status = await text_of(detail.status)
        ctx.fail(
            f"claim {number} cannot be appealed: {PORTAL} shows it as {status.lower()}, and only a "
            "denied claim can be appealed",
            original_claim_number=number,
        )
        return
    await detail.file_appeal.click()
    await arrive(ctx, {"form": form.heading}, what="the appeal form")


async def fill_appeal(ctx: StepContext) -> None:
    form, fields = AppealForm(ctx.page), ctx.fields
    await form.claim_number.fill(fields["original_claim_number"])
    await form.member_id.fill(fields["member_id"])
    await form.first_name.fill(fields["patient_first_name"])
    await form.last_name.fill(fields["patient_last_name"])
    await form.date_of_birth.fill(us_date(fields["date_of_birth"]))
    await form.reason.select_option(appeal_reason(fields["reason_category"], REASONS))
    await form.explanation.fill(fields["reason_text"])
    await form.contact_name.fill(fields["contact_name"])
    await form.contact_phone.fill(fields["contact_phone"])


async def upload_appeal_documents(ctx: StepContext) -> None:
    """Attach the files to the form (they are sent with the appeal); refuse early what the
    portal's stated limits would refuse after the submit."""
    if not ctx.uploads:
        return
    form = AppealForm(ctx.page)
    problems = document_problems(ctx.uploads, await text_of(form.documents_hint.first))
    if problems:
        raise needs_input(PORTAL, problems)
    await form.documents.set_input_files(await file_payloads(ctx.uploads))


async def submit_appeal(ctx: StepContext) -> None:
    """Click "Submit appeal" — the point of no return — and settle a refusal."""
    form = AppealForm(ctx.page)
    await form.submit.click()
    screens = {"received": AppealReceived(ctx.page).heading, "errors": form.errors}
    where = await arrive(ctx, screens, what="the appeal confirmation", signed_out_ok=True)
    if where == "signed_out":
        ctx.log.info("session ended before the appeal was taken; signing in again", extra={"portal": "acme"})
        await sign_in(ctx)
        await find_claim(ctx)
        if ctx.outcome is not None:
            return
        await fill_appeal(ctx)
        await upload_appeal_documents(ctx)
        await form.submit.click()
        where = await arrive(ctx, screens, what="the appeal confirmation")
    if where == "errors":
        await _refused(ctx, form)


async def _refused(ctx: StepContext, form: AppealForm) -> None:
    number = ctx.fields["original_claim_number"]
    if await form.upload_errors.count():
        raise needs_input(PORTAL, file_problems(await texts_of(form.upload_errors.get_by_role("listitem"))))
    problems = await summary_problems(form.errors, ctx.page, default_field="original_claim_number")
    about_claim = [p for p in problems if p.field == "original_claim_number"]
    if not about_claim:
        raise needs_input(PORTAL, problems)
    said = about_claim[0].message
    if "already on file" in said:
        ctx.finish(Outcome.COMPLETED_WITH_ISSUES, original_claim_number=number, payer_message=said)
    else:
        ctx.fail(f"{PORTAL} refused the appeal: {said}", original_claim_number=number, payer_message=said)


async def capture_appeal_reference(ctx: StepContext) -> None:
    """Read the appeal's receipt and keep it as a PDF (after a reconciliation: already read)."""
    if not ctx.result.get("appeal_status"):
        page = AppealReceived(ctx.page)
        status = (await text_of(page.status)).lower()
        ctx.result.update(
            tracking_number=await text_of(page.tracking_number),
            appeal_status=STATUSES.get(status, "received"),
            **confirmation_time(await text_of(page.submitted_at)),
            original_claim_number=ctx.fields["original_claim_number"],
        )
        await ctx.documents.save_page_pdf(
            ctx.page, filename=confirmation_name("appeal", ctx.result.get("tracking_number"))
        )
    ctx.finish(Outcome.COMPLETED)
