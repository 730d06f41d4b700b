"""Beacon's extra gates after sign-in: the security acknowledgement and the provider context."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from mock_portal.access import Redirect, signed_in
from mock_portal.models import User
from mock_portal.payers import BEACON as PAYER
from mock_portal.portal import Portal
from mock_portal.sessions import Session


def ready(request: Request) -> tuple[Session, User]:
    """A signed-in session that has acknowledged the terms and chosen an organization/provider."""
    session, user = signed_in(request, PAYER)
    if not session.acknowledged:
        raise Redirect(PAYER.url("/security-notice"))
    if not session.npi:
        raise Redirect(PAYER.url("/select-context"))
    return session, user


def context_bar(portal: Portal, session: Session) -> dict[str, Any]:
    provider = portal.state.provider(session.npi)
    tin = session.tax_id
    return {
        "org": provider.org_name if provider else "",
        "tin": f"{tin[:2]}-{tin[2:]}",
        "provider": provider.name if provider else "",
        "npi": session.npi,
    }
