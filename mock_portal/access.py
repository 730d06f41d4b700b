"""Who may see a page: the session guard shared by both payers, and the redirect it raises."""

from __future__ import annotations

from starlette.requests import Request

from mock_portal.models import User
from mock_portal.payers import Payer
from mock_portal.portal import Portal
from mock_portal.sessions import Session, Stage


class Redirect(Exception):
    """Raised by a guard or route to send the browser elsewhere (translated to a 303 in app.py)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


def portal_of(request: Request) -> Portal:
    portal: Portal = request.app.state.portal
    return portal


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def signed_in(request: Request, payer: Payer) -> tuple[Session, User]:
    """The caller's live, fully signed-in session, or a redirect to sign in (with the reason)."""
    portal = portal_of(request)
    now = portal.clock.now()
    session = portal.sessions.get(request.cookies.get(payer.session_cookie), payer.key)
    if session is None:
        raise Redirect(payer.url("/login"))
    reason = portal.sessions.expired(
        session,
        now,
        idle_seconds=portal.knobs.idle_timeout_seconds,
        lifetime_seconds=portal.knobs.session_lifetime_seconds,
    )
    if reason:
        raise Redirect(payer.url(f"/login?reason={reason.value}"))
    if session.stage is not Stage.SIGNED_IN:
        raise Redirect(payer.mfa_path)
    user = portal.state.user(payer.key, session.username)
    if user is None:
        raise Redirect(payer.url("/login"))
    session.last_seen = now
    return session, user
