"""Beacon Exchange authorization steps, inside the workspace iframe: one long 278 request form
with attachments, the submit (point of no return), the case page, and status checks while the
exchange has the request pended (it pends every request first)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from playwright.async_api import FrameLocator

from handlers.context import StepContext
from handlers.errors import InputProblem, NeedsInput
from handlers.portals.beacon.request_pages import AuthCase, AuthRequestForm, AuthStatusInquiry
from handlers.portals.beacon.screens import Shell
from handlers.portals.beacon.session import PORTAL, in_frame, open_workspace, print_workspace, through_gates
from handlers.portals.beacon.typeahead import choose_payer
from handlers.portals.common.decisions import decision_result, settle_authorization
from handlers.portals.common.documents import confirmation_name, document_problems, file_payloads
from handlers.portals.common.formats import confirmation_time
from handlers.portals.common.forms import fill_boxes
from handlers.portals.common.problems import file_problems, needs_input, summary_problems
from handlers.portals.common.screens import choose_option, text_of, texts_of

DECISIONS = {
    "certified in total": "approved",
    "certified - partial": "partially_approved",
    "not certified": "denied",
    "pended - in review": "pended",
    "no authorization required": "not_required",
}
MAX_DIAGNOSES, MAX_PROCEDURES = 2, 3


async def open_authorization_form(ctx: StepContext) -> None:
    await open_workspace(ctx, "authorizations", AuthRequestForm(Shell(ctx.page).frame).heading)


async def fill_patient_and_provider(ctx: StepContext) -> None:
    form, fields = AuthRequestForm(Shell(ctx.page).frame), ctx.fields
    await choose_payer(ctx, form.payer)
    await form.member_id.fill(fields["member_id"])
    await form.first_name.fill(fields["patient_first_name"])
    await form.last_name.fill(fields["patient_last_name"])
    await form.date_of_birth.fill(fields["date_of_birth"])
    await form.requesting_npi.fill(fields["requesting_npi"])
    await form.servicing_npi.fill(fields["servicing_npi"])


async def fill_services(ctx: StepContext) -> None:
    form, fields = AuthRequestForm(Shell(ctx.page).frame), ctx.fields
    codes: list[str] = list(fields["diagnosis_codes"])
    procedures: list[dict[str, Any]] = list(fields["procedures"])
    if len(codes) > MAX_DIAGNOSES or len(procedures) > MAX_PROCEDURES:
        message = f"{PORTAL} takes at most {MAX_DIAGNOSES} diagnoses and {MAX_PROCEDURES} procedures."
        field = "diagnosis_codes" if len(codes) > MAX_DIAGNOSES else "procedures"
        raise NeedsInput(message, problems=[InputProblem(field, message)])
    secondary = codes[1] if len(codes) > 1 else ""
    await fill_boxes([(form.primary_diagnosis, codes[0]), (form.secondary_diagnosis, secondary)])
    for number, procedure in enumerate(procedures, start=1):
        row = form.procedure(number)
        await form.code(row).fill(procedure["procedure_code"])
        await form.quantity(row).fill(str(procedure.get("units", 1)))
        await choose_option(
            form.quantity_type(row), procedure.get("unit_type") or "units", field="procedures", portal=PORTAL
        )
    await form.service_from.fill(fields["service_from"])
    await form.service_to.fill(fields.get("service_to") or fields["service_from"])
    await choose_option(form.urgency, fields.get("urgency") or "standard", field="urgency", portal=PORTAL)
    await choose_option(
        form.place_of_service, fields["place_of_service"], field="place_of_service", portal=PORTAL
    )


async def upload_authorization_documents(ctx: StepContext) -> None:
    """Notes and files go with the request; refuse early what the stated limits would refuse."""
    form = AuthRequestForm(Shell(ctx.page).frame)
    await fill_boxes([(form.clinical_notes, ctx.fields.get("clinical_notes") or "")])
    if ctx.uploads:
        problems = document_problems(ctx.uploads, await text_of(form.attachments_hint.first))
        if problems:
            raise needs_input(PORTAL, problems)
        await form.attachments.set_input_files(await file_payloads(ctx.uploads))


async def submit_prior_authorization(ctx: StepContext) -> None:
    """Click "Submit authorization request" — the point of no return."""
    frame = Shell(ctx.page).frame
    form = AuthRequestForm(frame)
    await form.submit.click()
    screens = {"case": AuthCase(frame).case_number, "errors": form.errors, "files": form.upload_errors}
    where = await in_frame(ctx, screens, what="the case page", signed_out_ok=True)
    if where == "signed_out":
        ctx.log.info(
            "session ended before the request was taken; logging in again", extra={"portal": "beacon"}
        )
        await ctx.page.goto(ctx.url("dashboard"))
        await through_gates(ctx)
        for step in (open_authorization_form, fill_patient_and_provider, fill_services):
            await step(ctx)
        await upload_authorization_documents(ctx)
        await form.submit.click()
        where = await in_frame(ctx, screens, what="the case page")
    if where == "files":
        raise needs_input(PORTAL, file_problems(await texts_of(form.upload_errors.get_by_role("listitem"))))
    if where == "errors":
        raise needs_input(PORTAL, await summary_problems(form.errors, frame, default_field="procedures"))


async def capture_authorization_reference(ctx: StepContext) -> None:
    """Read the case page and keep it as a PDF (after a reconciliation: already read)."""
    if not ctx.result.get("reference_number"):
        ctx.result.update(await read_case(Shell(ctx.page).frame))
        await print_workspace(ctx, confirmation_name("authorization", ctx.result.get("reference_number")))
    settle_authorization(ctx)


async def poll_decision(ctx: StepContext) -> None:
    """Check the pended case again through Authorization Status; repeated while still pended."""
    if ctx.result.get("decision") == "pended":
        await open_case(ctx, ctx.result["reference_number"])
        ctx.result.update(await read_case(Shell(ctx.page).frame))
    ctx.still_pending = ctx.result.get("decision") == "pended"
    settle_authorization(ctx)


async def open_case(ctx: StepContext, case_number: str) -> None:
    frame = await open_workspace(ctx, "auth-status?" + urlencode({"reference_number": case_number}))
    inquiry = AuthStatusInquiry(frame)
    await in_frame(ctx, {"found": inquiry.view(case_number)}, what="the case in the status search")
    await inquiry.view(case_number).click()
    await in_frame(ctx, {"case": AuthCase(frame).case_number}, what="the case page")


async def read_case(frame: FrameLocator) -> dict[str, Any]:
    case = AuthCase(frame)
    label = (await text_of(case.status)).lower()
    result: dict[str, Any] = {
        **decision_result(DECISIONS.get(label, "contact_payer")),
        "reference_number": await text_of(case.case_number),
        **confirmation_time(await text_of(case.submitted_at)),
    }
    if await case.certification_number.count():
        result["certification_number"] = await text_of(case.certification_number)
    if await case.effective_date.count():
        result["effective_date"] = await text_of(case.effective_date)
        result["expiration_date"] = await text_of(case.expiration_date)
    if await case.denial_reason.count():
        result["denial_reason"] = await text_of(case.denial_reason)
    certified = []
    for row in await case.procedure_rows.all():
        cells = await texts_of(row.get_by_role("cell"))
        if len(cells) > 2 and cells[2].isdigit():
            certified.append(int(cells[2]))
    if certified:
        result["approved_units"] = sum(certified)
    return result
