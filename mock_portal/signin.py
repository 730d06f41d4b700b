"""Signing in, the same on every payer: the log-in form (CAPTCHA first when the knob asks for
it, lockout after repeated bad passwords), then a TOTP passcode. Each payer routes to these
handlers with its own markup and wording (`SignIn`); what differs after the passcode (Beacon's
security acknowledgement) is the payer's `after_passcode`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi.responses import RedirectResponse, Response
from starlette.requests import Request

from mock_portal.access import Redirect, client_of, portal_of
from mock_portal.credentials import PasswordCheck, check_password, check_totp
from mock_portal.forms import form_dict
from mock_portal.models import User
from mock_portal.pages import render
from mock_portal.payers import Payer
from mock_portal.portal import Portal
from mock_portal.sessions import Session, Stage


def _nothing(portal: Portal, session: Session, user: User) -> None:
    return None


@dataclass(frozen=True)
class SignIn:
    """One payer's sign-in: its templates, its messages and the name of its passcode input."""

    payer: Payer
    login_template: str
    mfa_template: str
    code_field: str
    wrong_credentials: str
    locked: str
    bad_code: str
    after_passcode: Callable[[Portal, Session, User], None] = _nothing


def home(how: SignIn) -> Response:
    return RedirectResponse(how.payer.home_path, status_code=303)


def login_page(request: Request, how: SignIn, error: str = "", username: str = "") -> Response:
    portal = portal_of(request)
    if not error and portal.traffic.needs_captcha(client_of(request), portal.knobs.captcha):
        raise Redirect(how.payer.url("/captcha"))
    reason = request.query_params.get("reason", "")
    return render(
        request,
        how.payer,
        how.login_template,
        reason=reason,
        login_error=error,
        form={"username": username},
    )


async def submit_login(request: Request, how: SignIn) -> Response:
    portal, client, payer = portal_of(request), client_of(request), how.payer
    if portal.traffic.needs_captcha(client, portal.knobs.captcha):
        raise Redirect(payer.url("/captcha"))
    form = form_dict(await request.form())
    user = portal.state.user(payer.key, form.get("username", ""))
    result = check_password(user, form.get("password", ""), portal.knobs.lockout_threshold)
    if result is not PasswordCheck.OK or user is None:
        portal.traffic.login_failed(client)
        message = how.locked if result is PasswordCheck.LOCKED else how.wrong_credentials
        return login_page(request, how, message, form.get("username", ""))
    session = portal.sessions.create(payer.key, user.username, portal.clock.now())
    response = RedirectResponse(payer.mfa_path, status_code=303)
    response.set_cookie(
        payer.session_cookie, session.sid, path=payer.base_path, httponly=True, samesite="lax"
    )
    return response


def _password_ok(request: Request, payer: Payer) -> Session:
    """The session between the password and the passcode, or back to the log-in page."""
    session = portal_of(request).sessions.get(request.cookies.get(payer.session_cookie), payer.key)
    if session is None or session.stage is not Stage.PASSWORD_OK:
        raise Redirect(payer.url("/login"))
    return session


def passcode_page(request: Request, how: SignIn) -> Response:
    _password_ok(request, how.payer)
    return render(request, how.payer, how.mfa_template, mfa_error="")


async def submit_passcode(request: Request, how: SignIn) -> Response:
    portal = portal_of(request)
    session = _password_ok(request, how.payer)
    user = portal.state.user(how.payer.key, session.username)
    form = form_dict(await request.form())
    if user is None or not check_totp(user, form.get(how.code_field, ""), portal.clock.real_now()):
        return render(request, how.payer, how.mfa_template, mfa_error=how.bad_code)
    now = portal.clock.now()
    session.stage, session.created_at, session.last_seen = Stage.SIGNED_IN, now, now
    how.after_passcode(portal, session, user)
    portal.traffic.signed_in(client_of(request))
    return RedirectResponse(how.payer.home_path, status_code=303)
