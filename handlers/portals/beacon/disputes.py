"""Beacon Exchange appeal steps ("disputes"), inside the workspace iframe: find the claim (only a
denied claim offers "Dispute this claim"), fill the dispute, attach documents, submit (point of
no return). Beacon issues no dispute number: the dispute is confirmed on the list by claim ID."""

from __future__ import annotations

from urllib.parse import urlencode

from handlers.context import StepContext
from handlers.portals.beacon.pages import ClaimDetail, ClaimStatusInquiry
from handlers.portals.beacon.request_pages import DisputeForm, DisputeList, DisputeSubmitted
from handlers.portals.beacon.screens import Shell
from handlers.portals.beacon.session import PORTAL, in_frame, open_workspace, print_workspace, through_gates
from handlers.portals.common.documents import confirmation_name, document_problems, file_payloads
from handlers.portals.common.formats import appeal_reason, confirmation_time
from handlers.portals.common.problems import file_problems, needs_input, summary_problems
from handlers.portals.common.screens import text_of, texts_of
from sops.types import Outcome

REASONS = {"corrected_coding", "medical_necessity", "timely_filing", "bundling", "other"}
STATUSES = {"received": "received", "in review": "in_review", "decided": "decided"}


async def find_claim(ctx: StepContext) -> None:
    number = ctx.fields["original_claim_number"]
    frame = await open_workspace(ctx, "claim-status?" + urlencode({"claim_number": number}))
    inquiry = ClaimStatusInquiry(frame)
    where = await in_frame(ctx, {"found": inquiry.view(number), "none": inquiry.no_results}, what="the claim")
    if where == "none":
        ctx.fail(f"{PORTAL} has no claim {number}", original_claim_number=number)
        return
    await inquiry.view(number).click()
    detail = ClaimDetail(frame)
    await in_frame(ctx, {"detail": detail.claim_id}, what="the claim detail")
    if await detail.dispute_on_file.count():
        on_file = await text_of(detail.dispute_on_file)
        ctx.finish(
            Outcome.COMPLETED_WITH_ISSUES,
            original_claim_number=number,
            payer_message=f"a dispute is already on file ({on_file}), so none was filed again",
        )
        return
    if not await detail.dispute.count():
        status = await text_of(detail.status)
        ctx.fail(
            f"claim {number} cannot be disputed: {PORTAL} shows it as {status.lower()}, and only a "
            "denied claim can be disputed",
            original_claim_number=number,
        )
        return
    await detail.dispute.click()
    await in_frame(ctx, {"form": DisputeForm(frame).heading}, what="the dispute form")


async def fill_appeal(ctx: StepContext) -> None:
    form, fields = DisputeForm(Shell(ctx.page).frame), ctx.fields
    await form.claim_id.fill(fields["original_claim_number"])
    await form.member_id.fill(fields["member_id"])
    await form.first_name.fill(fields["patient_first_name"])
    await form.last_name.fill(fields["patient_last_name"])
    await form.date_of_birth.fill(fields["date_of_birth"])
    await form.reason.select_option(appeal_reason(fields["reason_category"], REASONS))
    await form.details.fill(fields["reason_text"])
    await form.contact_name.fill(fields["contact_name"])
    await form.contact_phone.fill(fields["contact_phone"])


async def upload_dispute_documents(ctx: StepContext) -> None:
    if not ctx.uploads:
        return
    form = DisputeForm(Shell(ctx.page).frame)
    problems = document_problems(ctx.uploads, await text_of(form.attachments_hint.first))
    if problems:
        raise needs_input(PORTAL, problems)
    await form.attachments.set_input_files(await file_payloads(ctx.uploads))


async def submit_appeal(ctx: StepContext) -> None:
    """Click "Submit dispute" — the point of no return — and settle a refusal."""
    frame = Shell(ctx.page).frame
    form = DisputeForm(frame)
    await form.submit.click()
    screens = {
        "submitted": DisputeSubmitted(frame).heading,
        "files": form.upload_errors,
        "errors": form.errors,
    }
    where = await in_frame(ctx, screens, what="the dispute confirmation", signed_out_ok=True)
    if where == "signed_out":
        ctx.log.info(
            "session ended before the dispute was taken; logging in again", extra={"portal": "beacon"}
        )
        await ctx.page.goto(ctx.url("dashboard"))
        await through_gates(ctx)
        await find_claim(ctx)
        if ctx.outcome is not None:
            return
        await fill_appeal(ctx)
        await upload_dispute_documents(ctx)
        await form.submit.click()
        where = await in_frame(ctx, screens, what="the dispute confirmation")
    if where == "files":
        raise needs_input(PORTAL, file_problems(await texts_of(form.upload_errors.get_by_role("listitem"))))
    if where == "errors":
        await _refused(ctx, form)


async def _refused(ctx: StepContext, form: DisputeForm) -> None:
    number = ctx.fields["original_claim_number"]
    problems = await summary_problems(
        form.errors, Shell(ctx.page).frame, default_field="original_claim_number"
    )
    about_claim = [p for p in problems if p.field == "original_claim_number"]
    if not about_claim:
        raise needs_input(PORTAL, problems)
    said = about_claim[0].message
    if "already in progress" in said:
        ctx.finish(Outcome.COMPLETED_WITH_ISSUES, original_claim_number=number, payer_message=said)
    else:
        ctx.fail(f"{PORTAL} refused the dispute: {said}", original_claim_number=number, payer_message=said)


async def capture_appeal_reference(ctx: StepContext) -> None:
    """Beacon gives no number: confirm the dispute is listed for the claim and record its status."""
    number = ctx.fields["original_claim_number"]
    if not ctx.result.get("appeal_status"):
        submitted = DisputeSubmitted(Shell(ctx.page).frame)
        ctx.result.update(
            appeal_status=STATUSES.get((await text_of(submitted.status)).lower(), "received"),
            **confirmation_time(await text_of(submitted.submitted_at)),
            payer_message=await text_of(submitted.no_number),
            original_claim_number=number,
        )
        # No dispute number: the printed receipt names the claim it disputes.
        await print_workspace(ctx, confirmation_name("dispute", f"claim-{number}"))
        listing = DisputeList(await open_workspace(ctx, "disputes?" + urlencode({"claim_number": number})))
        await in_frame(ctx, {"listed": listing.rows}, what="the dispute in the list for the claim")
    ctx.finish(Outcome.COMPLETED)
