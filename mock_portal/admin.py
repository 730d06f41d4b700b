"""The test-only admin API under /_mock/: reset, knobs, clock, payers, users, inspection.

Mounted only when the portal runs with --admin (or MOCK_PORTAL_ADMIN=1).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, HTTPException
from pydantic import ValidationError

from mock_portal.access import portal_of
from mock_portal.knobs import apply_patch
from mock_portal.models import Kind
from mock_portal.payers import PAYERS
from mock_portal.portal import Portal
from mock_portal.scenarios import MAGIC_MEMBERS

PortalDep = Annotated[Portal, Depends(portal_of)]
router = APIRouter(prefix="/_mock", tags=["mock admin"])


@router.post("/reset")
def reset(portal: PortalDep) -> dict[str, Any]:
    portal.reset()
    return {"reset": True, "knobs": portal.knobs.model_dump(mode="json")}


@router.get("/knobs")
def knobs(portal: PortalDep) -> dict[str, Any]:
    return portal.knobs.model_dump(mode="json")


@router.patch("/knobs")
def set_knobs(portal: PortalDep, patch: dict[str, Any] = Body(...)) -> dict[str, Any]:
    try:
        portal.knobs = apply_patch(portal.knobs, patch)
    except ValidationError as exc:
        raise HTTPException(422, detail=exc.errors(include_url=False, include_context=False)) from exc
    return portal.knobs.model_dump(mode="json")


@router.post("/clock/advance")
def advance(portal: PortalDep, seconds: float = Body(..., embed=True)) -> dict[str, Any]:
    portal.knobs = apply_patch(
        portal.knobs, {"clock_offset_seconds": portal.knobs.clock_offset_seconds + seconds}
    )
    return {
        "clock_offset_seconds": portal.knobs.clock_offset_seconds,
        "now": portal.clock.now().isoformat(),
    }


@router.get("/payers")
def payers() -> list[dict[str, str]]:
    return [p.as_json() for p in PAYERS.values()]


@router.get("/users")
def users(portal: PortalDep) -> dict[str, list[dict[str, Any]]]:
    return {
        key: [
            {
                "username": u.username,
                "password": u.password,
                "totp_secret": u.totp_secret,
                "display_name": u.display_name,
                "locked": u.locked,
                "failed_logins": u.failed_logins,
            }
            for u in portal.state.users_of(key)
        ]
        for key in PAYERS
    }


@router.post("/users/{payer}/{username}/unlock")
def unlock(portal: PortalDep, payer: str, username: str) -> dict[str, Any]:
    user = portal.state.user(payer, username)
    if user is None:
        raise HTTPException(404, detail="No such user")
    user.locked, user.failed_logins = False, 0
    return {"username": username, "locked": False}


@router.get("/scenarios")
def scenarios() -> list[dict[str, str]]:
    return [
        {"member_id": m.member_id, "scenario": m.scenario.value, "effect": m.effect} for m in MAGIC_MEMBERS
    ]


@router.get("/traffic")
def traffic(portal: PortalDep) -> dict[str, Any]:
    """Page loads by payer and kind (document, iframe) since the last reset, and the latest ones."""
    return portal.traffic.page_loads()


@router.get("/submissions")
def submissions(
    portal: PortalDep, payer: str | None = None, kind: Kind | None = None
) -> list[dict[str, Any]]:
    return [
        s.as_json()
        for s in portal.state.submissions
        if (payer is None or s.payer == payer) and (kind is None or s.kind is kind)
    ]


@router.get("/submissions/{submission_id}")
def submission(portal: PortalDep, submission_id: int) -> dict[str, Any]:
    for s in portal.state.submissions:
        if s.id == submission_id:
            return s.as_json()
    raise HTTPException(404, detail="No such submission")


@router.get("/lookups")
def lookups(
    portal: PortalDep, payer: str | None = None, kind: Literal["claim", "auth"] | None = None
) -> list[dict[str, Any]]:
    """Claim and auth status lookups (searches and detail views) since the last reset."""
    return [
        entry.as_json()
        for entry in portal.state.lookups.lookups
        if (payer is None or entry.payer == payer) and (kind is None or entry.kind == kind)
    ]


@router.get("/documents")
def served_documents(portal: PortalDep, payer: str | None = None) -> list[dict[str, Any]]:
    """PDF documents (EOBs, remittance advice, auth letters) served since the last reset."""
    return [d.as_json() for d in portal.state.lookups.documents if payer is None or d.payer == payer]
