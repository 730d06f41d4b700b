"""Beacon Exchange status checks, inside the workspace iframe: claim status inquiry (by claim ID
or member + dates, then the claim's detail) and authorization status (by case or certification
number, or member + procedure + dates, then the case page). The steps are the common ones
(handlers/portals/common/status.py), given Beacon's page objects (in the iframe) and words."""

from __future__ import annotations

from handlers.context import StepContext
from handlers.portals.beacon.auths import read_case
from handlers.portals.beacon.pages import ClaimDetail, ClaimStatusInquiry
from handlers.portals.beacon.request_pages import AuthCase, AuthStatusInquiry
from handlers.portals.beacon.screens import Shell
from handlers.portals.beacon.session import PORTAL, in_frame, open_workspace
from handlers.portals.common import status


def _as_shown(iso: str) -> str:
    """Beacon's date inputs take, and its pages show, ISO dates."""
    return iso


STATUS = status.StatusPortal(
    name=PORTAL,
    root=lambda page: Shell(page).frame,
    arrive=in_frame,
    form_date=_as_shown,
    page_date=_as_shown,
    claim_results="the claim status results",
    claim_page="the claim's detail",
    no_such_claim="No claim with that ID.",
    auth_results="the authorization status results",
    auth_page="the case page",
)


async def open_claim_status_search(ctx: StepContext) -> None:
    await open_workspace(ctx, "claim-status", ClaimStatusInquiry(Shell(ctx.page).frame).heading)


async def search_claim_status(ctx: StepContext) -> None:
    frame = Shell(ctx.page).frame
    inquiry = ClaimStatusInquiry(frame)
    opened = ClaimDetail(frame).claim_id
    await status.search_claim_status(ctx, STATUS, inquiry, inquiry.claim_id, inquiry.view, opened)


async def read_claim_status(ctx: StepContext) -> None:
    page = ClaimDetail(Shell(ctx.page).frame)
    await status.read_claim_status(ctx, STATUS, page, page.claim_id, page.remittance)


async def open_authorization_status_search(ctx: StepContext) -> None:
    # The case page has the same heading as the search: wait for the search form itself.
    await open_workspace(ctx, "auth-status", AuthStatusInquiry(Shell(ctx.page).frame).form)


async def search_authorization_status(ctx: StepContext) -> None:
    frame = Shell(ctx.page).frame
    inquiry = AuthStatusInquiry(frame)
    opened = AuthCase(frame).case_number
    await status.search_authorization_status(ctx, STATUS, inquiry, inquiry.case_number, inquiry.view, opened)


async def read_authorization_status(ctx: StepContext) -> None:
    frame = Shell(ctx.page).frame
    decision = await read_case(frame)
    await status.read_authorization_status(ctx, STATUS, AuthCase(frame), decision)
