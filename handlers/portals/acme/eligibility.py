"""Acme Health eligibility steps: open the search, fill it (masked DOB), read the 271-style answer."""

from __future__ import annotations

import re
from typing import Any

from handlers.context import StepContext
from handlers.errors import InputProblem, NeedsInput
from handlers.portals.acme.pages import EligibilityResultPage, EligibilitySearch
from handlers.portals.acme.session import PORTAL, arrive, open_screen
from handlers.portals.common.formats import confirmation_time, iso_from_us, money, percent, us_date
from handlers.portals.common.outcomes import eligibility_rejection, network
from handlers.portals.common.problems import needs_input, summary_problems
from handlers.portals.common.screens import choose_option, text_of
from sops.types import Outcome


async def open_eligibility_search(ctx: StepContext) -> None:
    await open_screen(ctx, "eligibility", EligibilitySearch(ctx.page).heading, what="the eligibility search")


async def fill_eligibility(ctx: StepContext) -> None:
    form, fields = EligibilitySearch(ctx.page), ctx.fields
    npi = fields.get("provider_npi")
    if not npi:
        raise NeedsInput(
            f"{PORTAL} asks for the provider NPI on every eligibility check.",
            problems=[InputProblem("provider_npi", "Give the NPI of the provider seeing the patient.")],
        )
    await form.member_id.fill(fields["member_id"])
    await form.first_name.fill(fields["patient_first_name"])
    await form.last_name.fill(fields["patient_last_name"])
    await form.type_date_of_birth(fields["date_of_birth"])
    if fields.get("service_date"):
        await form.service_date.fill(us_date(fields["service_date"]))
    await choose_option(
        form.service_type, fields.get("service_type") or "30", field="service_type", portal=PORTAL
    )
    await form.provider_npi.fill(npi)
    await form.submit.click()
    where = await arrive(
        ctx,
        {"result": EligibilityResultPage(ctx.page).heading, "errors": form.errors},
        what="the eligibility answer",
    )
    if where == "errors":
        raise needs_input(PORTAL, await summary_problems(form.errors, ctx.page, default_field="member_id"))


async def read_eligibility_result(ctx: StepContext) -> None:
    page = EligibilityResultPage(ctx.page)
    result: dict[str, Any] = {
        "reference_number": await text_of(page.control_number),
        **confirmation_time(await text_of(page.checked_at)),
    }
    if await page.rejection.is_visible():
        code = await text_of(page.aaa_code)
        said = await text_of(page.rejection.get_by_text(re.compile(r"^AAA")).first)
        message = said.split(":", 1)[1].strip() if ":" in said else said
        reason = eligibility_rejection(PORTAL, code, message)
        ctx.fail(reason, rejection_code=code, payer_message=message, **result)
        return
    status = (await text_of(page.coverage_status)).lower()
    start, _, end = (await text_of(page.coverage_dates)).partition(" - ")
    result |= {
        "coverage_status": "active" if status == "active" else "inactive",
        "plan_name": await text_of(page.plan_name),
        "group_number": await text_of(page.group_number),
        "coverage_start": iso_from_us(start),
        "coverage_end": iso_from_us(end),
        "network": network(await text_of(page.network)),
        "payer_notes": await text_of(page.payer_notes),
    }
    if result["coverage_status"] != "active":
        ctx.finish(Outcome.COMPLETED_WITH_ISSUES, payer_message=result["payer_notes"], **result)
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
