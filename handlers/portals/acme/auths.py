"""Acme Health prior authorization steps: the four-step wizard (patient, service, clinical +
documents, review), the submit (point of no return), the decision page and later looks at it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from playwright.async_api import Page

from handlers.context import StepContext
from handlers.errors import InputProblem, NeedsInput
from handlers.portals.acme.request_pages import AuthDecisionPage, AuthWizard
from handlers.portals.acme.session import PORTAL, arrive, open_screen, sign_in
from handlers.portals.common.decisions import decision_result, settle_authorization
from handlers.portals.common.documents import confirmation_name, document_problems, file_payloads
from handlers.portals.common.formats import confirmation_time, iso_from_us, us_date
from handlers.portals.common.forms import fill_boxes
from handlers.portals.common.problems import file_problems, needs_input, summary_problems
from handlers.portals.common.screens import choose_option, text_of, texts_of

DECISIONS = {
    "approved": "approved",
    "partially approved": "partially_approved",
    "denied": "denied",
    "pended for clinical review": "pended",
    "no authorization required": "not_required",
}
MAX_DIAGNOSES, MAX_PROCEDURES = 2, 3


async def open_authorization_form(ctx: StepContext) -> None:
    wizard = AuthWizard(ctx.page)
    await open_screen(
        ctx, "auths/new", wizard.step("Patient and providers"), what="a new authorization request"
    )


async def fill_patient_and_provider(ctx: StepContext) -> None:
    wizard, fields = AuthWizard(ctx.page), ctx.fields
    await wizard.member_id.fill(fields["member_id"])
    await wizard.first_name.fill(fields["patient_first_name"])
    await wizard.last_name.fill(fields["patient_last_name"])
    await wizard.date_of_birth.fill(us_date(fields["date_of_birth"]))
    await wizard.requesting_npi.fill(fields["requesting_npi"])
    await wizard.servicing_npi.fill(fields["servicing_npi"])
    await _next(ctx, "Service details", default_field="member_id")


async def fill_services(ctx: StepContext) -> None:
    wizard, fields = AuthWizard(ctx.page), ctx.fields
    codes: list[str] = list(fields["diagnosis_codes"])
    procedures: list[dict[str, Any]] = list(fields["procedures"])
    _check_room(codes, procedures)
    secondary = codes[1] if len(codes) > 1 else ""
    await fill_boxes([(wizard.primary_diagnosis, codes[0]), (wizard.secondary_diagnosis, secondary)])
    for number, procedure in enumerate(procedures, start=1):
        group = wizard.procedure(number)
        await group.get_by_label("Procedure code").fill(procedure["procedure_code"])
        await group.get_by_label("Requested quantity").fill(str(procedure.get("units", 1)))
        await choose_option(
            group.get_by_label("Quantity type"),
            procedure.get("unit_type") or "units",
            field="procedures",
            portal=PORTAL,
        )
    await wizard.start_date.fill(us_date(fields["service_from"]))
    await wizard.end_date.fill(us_date(fields.get("service_to") or fields["service_from"]))
    await choose_option(
        wizard.place_of_service, fields["place_of_service"], field="place_of_service", portal=PORTAL
    )
    await wizard.urgency(fields.get("urgency") or "standard").check()
    await _next(ctx, "Clinical information", default_field="procedures")


async def upload_authorization_documents(ctx: StepContext) -> None:
    wizard = AuthWizard(ctx.page)
    await fill_boxes([(wizard.clinical_notes, ctx.fields.get("clinical_notes") or "")])
    if ctx.uploads:
        problems = document_problems(ctx.uploads, await text_of(wizard.documents_hint.first))
        if problems:
            raise needs_input(PORTAL, problems)
        await wizard.documents.set_input_files(await file_payloads(ctx.uploads))
    await wizard.next.click()
    where = await arrive(
        ctx,
        {"review": wizard.step("Review and submit"), "refused": wizard.upload_errors},
        what="the review page",
    )
    if where == "refused":
        raise needs_input(PORTAL, file_problems(await texts_of(wizard.upload_errors.get_by_role("listitem"))))


async def submit_prior_authorization(ctx: StepContext) -> None:
    """Click "Submit request" — the point of no return. A post that lands on the sign-in page was
    not taken (the wizard's draft lives in the ended session): sign in and go through it again."""
    wizard = AuthWizard(ctx.page)
    await wizard.submit.click()
    decision = AuthDecisionPage(ctx.page).reference_number
    where = await arrive(ctx, {"decision": decision}, what="the decision page", signed_out_ok=True)
    if where == "signed_out":
        ctx.log.info("session ended before the request was taken; signing in again", extra={"portal": "acme"})
        await sign_in(ctx)
        for step in (open_authorization_form, fill_patient_and_provider, fill_services):
            await step(ctx)
        await upload_authorization_documents(ctx)
        await wizard.submit.click()
        await arrive(ctx, {"decision": decision}, what="the decision page")


async def capture_authorization_reference(ctx: StepContext) -> None:
    """Read the decision page and keep it as a PDF (after a reconciliation: already read)."""
    if not ctx.result.get("reference_number"):
        ctx.result.update(await read_decision(ctx.page))
        await ctx.documents.save_page_pdf(
            ctx.page, filename=confirmation_name("authorization", ctx.result.get("reference_number"))
        )
    settle_authorization(ctx)


async def poll_decision(ctx: StepContext) -> None:
    """Look at a pended request again; the engine repeats this step while it stays pended."""
    if ctx.result.get("decision") == "pended":
        reference = ctx.result["reference_number"]
        page = AuthDecisionPage(ctx.page)
        await open_screen(ctx, f"auths/{reference}", page.reference_number, what="the authorization")
        ctx.result.update(await read_decision(ctx.page))
    ctx.still_pending = ctx.result.get("decision") == "pended"
    settle_authorization(ctx)


async def read_decision(page: Page) -> dict[str, Any]:
    screen = AuthDecisionPage(page)
    label = (await text_of(screen.decision)).lower()
    decision = DECISIONS.get(label, "contact_payer")
    result: dict[str, Any] = {
        **decision_result(decision),
        "reference_number": await text_of(screen.reference_number),
        **confirmation_time(await text_of(screen.submitted_at)),
    }
    if await screen.certification_number.count():
        result["certification_number"] = await text_of(screen.certification_number)
    if await screen.effective_date.count():
        result["effective_date"] = iso_from_us(await text_of(screen.effective_date))
        result["expiration_date"] = iso_from_us(await text_of(screen.expiration_date))
    if await screen.denial_reason.count():
        result["denial_reason"] = await text_of(screen.denial_reason)
    approved = [row[2] for row in await _rows(screen) if len(row) > 2 and row[2].isdigit()]
    if approved:
        result["approved_units"] = sum(int(units) for units in approved)
    return result


async def _rows(screen: AuthDecisionPage) -> list[list[str]]:
    rows = []
    for row in await screen.procedure_rows.all():
        rows.append(await texts_of(row.get_by_role("cell")))
    return rows


async def _next(ctx: StepContext, step: str, *, default_field: str) -> None:
    wizard = AuthWizard(ctx.page)
    await wizard.next.click()
    where = await arrive(ctx, {"next": wizard.step(step), "errors": wizard.errors}, what=f"the {step} step")
    if where == "errors":
        raise needs_input(
            PORTAL, await summary_problems(wizard.errors, ctx.page, default_field=default_field)
        )


def _check_room(codes: Sequence[str], procedures: Sequence[object]) -> None:
    problems = []
    if len(codes) > MAX_DIAGNOSES:
        problems.append(
            InputProblem("diagnosis_codes", f"{PORTAL} takes at most {MAX_DIAGNOSES} diagnosis codes.")
        )
    if len(procedures) > MAX_PROCEDURES:
        problems.append(InputProblem("procedures", f"{PORTAL} takes at most {MAX_PROCEDURES} procedures."))
    if problems:
        raise NeedsInput(
            f"{PORTAL}'s request form has no room for everything in the task: "
            + " ".join(p.message for p in problems),
            problems=problems,
        )
