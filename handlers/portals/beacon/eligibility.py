"""Beacon Exchange eligibility steps, inside the workspace iframe: choose the health plan in the
typeahead, send the inquiry (the provider is the session's context), read the response."""

from __future__ import annotations

import re
from typing import Any

from handlers.context import StepContext
from handlers.portals.beacon.pages import EligibilityInquiry, EligibilityResponse
from handlers.portals.beacon.screens import Shell
from handlers.portals.beacon.session import PORTAL, in_frame, open_workspace
from handlers.portals.beacon.typeahead import choose_payer
from handlers.portals.common.formats import confirmation_time, money, percent
from handlers.portals.common.outcomes import eligibility_rejection, network
from handlers.portals.common.problems import needs_input, summary_problems
from handlers.portals.common.screens import choose_option, text_of
from sops.types import Outcome


async def open_eligibility_search(ctx: StepContext) -> None:
    await open_workspace(ctx, "eligibility", EligibilityInquiry(Shell(ctx.page).frame).heading)


async def fill_eligibility(ctx: StepContext) -> None:
    frame, fields = Shell(ctx.page).frame, ctx.fields
    form = EligibilityInquiry(frame)
    await choose_payer(ctx, form.payer)
    await form.member_id.fill(fields["member_id"])
    await form.first_name.fill(fields["patient_first_name"])
    await form.last_name.fill(fields["patient_last_name"])
    await form.date_of_birth.fill(fields["date_of_birth"])
    if fields.get("service_date"):
        await form.service_date.fill(fields["service_date"])
    await choose_option(
        form.service_type, fields.get("service_type") or "30", field="service_type", portal=PORTAL
    )
    await form.submit.click()
    screens = {"response": EligibilityResponse(frame).heading, "errors": form.errors}
    if await in_frame(ctx, screens, what="the eligibility response") == "errors":
        raise needs_input(PORTAL, await summary_problems(form.errors, frame, default_field="member_id"))


async def read_eligibility_result(ctx: StepContext) -> None:
    page = EligibilityResponse(Shell(ctx.page).frame)
    result: dict[str, Any] = {
        "reference_number": await text_of(page.control_number),
        **confirmation_time(await text_of(page.checked_at)),
    }
    if await page.rejection.is_visible():
        code = await text_of(page.aaa_code)
        said = await text_of(page.rejection.get_by_text(re.compile(r"^Reject reason")).first)
        message = said.split(":", 1)[1].strip() if ":" in said else said
        reason = eligibility_rejection(PORTAL, code, message)
        ctx.fail(reason, rejection_code=code, payer_message=message, **result)
        return
    status = (await text_of(page.coverage_status)).lower()
    result |= {
        "coverage_status": "active" if status.startswith("active") else "inactive",
        "plan_name": await text_of(page.plan_name),
        "group_number": await text_of(page.group_number),
        "coverage_start": await text_of(page.plan_begin),
        "coverage_end": await text_of(page.plan_end),
        "network": network(await text_of(page.network)),
        "payer_notes": await text_of(page.payer_notes),
    }
    if result["coverage_status"] != "active":
        ended = f"the plan ended {result['coverage_end']}" if result["coverage_end"] else None
        ctx.finish(Outcome.COMPLETED_WITH_ISSUES, payer_message=ended, **result)
        return
    result |= {
        "copay": money(await text_of(page.copay)),
        "coinsurance_percent": percent(await text_of(page.coinsurance)),
        "deductible_total": money(await text_of(page.deductible_total)),
        "deductible_remaining": money(await text_of(page.deductible_remaining)),
        "out_of_pocket_total": money(await text_of(page.oop_total)),
        "out_of_pocket_remaining": money(await text_of(page.oop_remaining)),
    }
    ctx.finish(Outcome.COMPLETED, **result)
