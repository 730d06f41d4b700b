"""Beacon Exchange claim steps, inside the workspace iframe: the 837P form (service line rows
are added in the browser), the submit (point of no return) with Beacon's soft duplicate warning,
and the claim ID from the acknowledgement."""

from __future__ import annotations

import re
from typing import Any

from handlers.context import StepContext
from handlers.portals.beacon.pages import ClaimAnswer, ClaimDuplicateWarning, ClaimForm
from handlers.portals.beacon.screens import Shell
from handlers.portals.beacon.session import PORTAL, in_frame, open_workspace, print_workspace, through_gates
from handlers.portals.beacon.typeahead import choose_payer
from handlers.portals.common.documents import confirmation_name
from handlers.portals.common.formats import confirmation_time, money
from handlers.portals.common.forms import fill_boxes
from handlers.portals.common.problems import needs_input, summary_problems
from handlers.portals.common.screens import choose_option, text_of, texts_of
from sops.types import Outcome

SLOTS = "ABCDEFGHIJKL"
STATUSES = {"acknowledged": "acknowledged", "in process": "in_process"}
DUPLICATE = re.compile(r"matches claim ID (\S+?)\.?$")


async def open_claim_form(ctx: StepContext) -> None:
    await open_workspace(ctx, "claims", ClaimForm(Shell(ctx.page).frame).heading)


async def fill_claim(ctx: StepContext) -> None:
    form, fields = ClaimForm(Shell(ctx.page).frame), ctx.fields
    lines: list[dict[str, Any]] = list(fields["service_lines"])
    await choose_payer(ctx, form.payer)
    for number in range(await form.lines.count() + 1, len(lines) + 1):
        await form.add_line.click()  # a row added by script, no round trip
        await form.line_field(number, "Procedure Code").wait_for()
    codes: list[str] = list(fields["diagnosis_codes"])
    await fill_boxes(
        [
            (form.member_id, fields["member_id"]),
            (form.first_name, fields["patient_first_name"]),
            (form.last_name, fields["patient_last_name"]),
            (form.date_of_birth, fields["date_of_birth"]),
            (form.account_number, fields.get("patient_account_number") or ""),
            # Billing NPI and tax ID come prefilled from the provider context: type the task's own.
            (form.billing_npi, fields["billing_npi"]),
            (form.tax_id, fields["tax_id"]),
            (form.rendering_npi, fields.get("rendering_npi") or ""),
            *(
                (form.diagnosis(number, slot), code)
                for number, (slot, code) in enumerate(zip(SLOTS, codes, strict=False), start=1)
            ),
            *(box for number, line in enumerate(lines, start=1) for box in form.line_boxes(number, line)),
            (form.original_claim, fields.get("original_claim_number") or ""),
            (form.prior_auth, fields.get("prior_auth_number") or ""),
        ]
    )
    for number, line in enumerate(lines, start=1):
        pos = line["place_of_service"]
        await choose_option(
            form.line_field(number, "Place of Service"), pos, field="service_lines", portal=PORTAL
        )
    await choose_option(
        form.frequency, fields.get("resubmission_code") or "1", field="resubmission_code", portal=PORTAL
    )


async def submit_claim(ctx: StepContext) -> None:
    """Click "Submit claim" — the point of no return — and settle what the exchange answered.

    A post that lands on the log-in page was not taken: log in, fill again, submit once more.
    """
    frame = Shell(ctx.page).frame
    form = ClaimForm(frame)
    await form.submit.click()
    where = await _answer(ctx, signed_out_ok=True)
    if where == "signed_out":
        ctx.log.info("session ended before the claim was taken; logging in again", extra={"portal": "beacon"})
        await ctx.page.goto(ctx.url("dashboard"))
        await through_gates(ctx)
        await open_claim_form(ctx)
        await fill_claim(ctx)
        await form.submit.click()
        where = await _answer(ctx)
    answer = ClaimAnswer(frame)
    if where == "rejected":
        reasons = await texts_of(answer.reasons)
        trace = await text_of(answer.trace_number)
        ctx.fail(
            f"{PORTAL} rejected the claim ({'; '.join(reasons)})",
            claim_status="rejected",
            rejection_reasons=reasons,
            reference_number=trace,
            **confirmation_time(await text_of(answer.submitted_at)),
        )
        # The payer's answer to a submission all the same: the clerk keeps the rejection too.
        await print_workspace(ctx, confirmation_name("claim", trace, page="rejection"))
    elif where == "warning":
        warning = ClaimDuplicateWarning(frame)
        existing = await text_of(warning.duplicate_of)
        # Soft duplicate: do not "Submit anyway"; the payer already has this claim.
        await warning.cancel.click()
        _duplicate(ctx, existing)
    elif where == "errors":
        problems = await summary_problems(form.errors, frame, default_field="service_lines")
        blocked = next((m for p in problems if (m := DUPLICATE.search(p.message))), None)
        if blocked is None:
            raise needs_input(PORTAL, problems)
        _duplicate(ctx, blocked.group(1))


def _duplicate(ctx: StepContext, existing: str) -> None:
    ctx.finish(
        Outcome.COMPLETED_WITH_ISSUES,
        claim_status="duplicate",
        duplicate_of=existing,
        payer_message=f"{PORTAL} already has this claim as {existing}.",
    )


async def _answer(ctx: StepContext, *, signed_out_ok: bool = False) -> str:
    frame = Shell(ctx.page).frame
    answer = ClaimAnswer(frame)
    screens = {
        "acknowledged": answer.acknowledged,
        "rejected": answer.rejected,
        "warning": ClaimDuplicateWarning(frame).warning,
        "errors": ClaimForm(frame).errors,
    }
    return await in_frame(ctx, screens, what="the claim acknowledgement", signed_out_ok=signed_out_ok)


async def capture_claim_number(ctx: StepContext) -> None:
    """Read the acknowledgement and keep it as a PDF; after a reconciliation the claim ID is
    already known."""
    if not ctx.result.get("claim_number"):
        answer = ClaimAnswer(Shell(ctx.page).frame)
        status = (await text_of(answer.status)).lower()
        ctx.result.update(
            claim_number=await text_of(answer.claim_id),
            claim_status=STATUSES.get(status, "accepted"),
            **confirmation_time(await text_of(answer.submitted_at)),
            total_charge=money(await text_of(answer.total_charge)),
        )
        await print_workspace(ctx, confirmation_name("claim", ctx.result.get("claim_number")))
    ctx.finish(Outcome.COMPLETED)
