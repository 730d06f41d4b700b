"""Signing in, the same on every payer: the log-in form (CAPTCHA first when the knob asks for
it, lockout after repeated bad passwords), then a TOTP passcode. Each payer mounts these
routes (`SignIn.router`) with its own markup and wording; what differs after the passcode (Beacon's
security acknowledgement) is the payer's `after_passcode`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import APIRouter
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

    def router(self) -> APIRouter:
        """The payer's router with the sign-in routes on it (the passcode form at its `mfa_path`)."""
        router = APIRouter(prefix=self.payer.base_path)
        passcode = self.payer.mfa_path.removeprefix(self.payer.base_path)
        router.add_api_route("", self.home, methods=["GET"])
        router.add_api_route("/", self.home, methods=["GET"])
        router.add_api_route("/login", self.login, methods=["GET"])
        router.add_api_route("/login", self.submit_login, methods=["POST"])
        router.add_api_route(passcode, self.passcode, methods=["GET"])
        router.add_api_route(passcode, self.submit_passcode, methods=["POST"])
        return router

    def home(self) -> Response:
        return RedirectResponse(self.payer.home_path, status_code=303)

    def login(self, request: Request) -> Response:
        return self._login_page(request)

    def _login_page(self, request: Request, error: str = "", username: str = "") -> Response:
        portal = portal_of(request)
        if not error and portal.traffic.needs_captcha(client_of(request), portal.knobs.captcha):
            raise Redirect(self.payer.url("/captcha"))
        reason = request.query_params.get("reason", "")
        return render(
            request,
            self.payer,
            self.login_template,
            reason=reason,
            login_error=error,
            form={"username": username},
        )

    async def submit_login(self, request: Request) -> Response:
        portal, client, payer = portal_of(request), client_of(request), self.payer
        if portal.traffic.needs_captcha(client, portal.knobs.captcha):
            raise Redirect(payer.url("/captcha"))
        form = form_dict(await request.form())
        user = portal.state.user(payer.key, form.get("username", ""))
        result = check_password(user, form.get("password", ""), portal.knobs.lockout_threshold)
        if result is not PasswordCheck.OK or user is None:
            portal.traffic.login_failed(client)
            message = self.locked if result is PasswordCheck.LOCKED else self.wrong_credentials
            return self._login_page(request, message, form.get("username", ""))
        session = portal.sessions.create(payer.key, user.username, portal.clock.now())
        response = RedirectResponse(payer.mfa_path, status_code=303)
        response.set_cookie(
            payer.session_cookie, session.sid, path=payer.base_path, httponly=True, samesite="lax"
        )
        return response

    def _password_ok(self, request: Request) -> Session:
        """The session between the password and the passcode, or back to the log-in page."""
        payer = self.payer
        session = portal_of(request).sessions.get(request.cookies.get(payer.session_cookie), payer.key)
        if session is None or session.stage is not Stage.PASSWORD_OK:
            raise Redirect(payer.url("/login"))
        return session

    def passcode(self, request: Request) -> Response:
        self._password_ok(request)
        return render(request, self.payer, self.mfa_template, mfa_error="")

    async def submit_passcode(self, request: Request) -> Response:
        portal = portal_of(request)
        session = self._password_ok(request)
        user = portal.state.user(self.payer.key, session.username)
        form = form_dict(await request.form())
        if user is None or not check_totp(user, form.get(self.code_field, ""), portal.clock.real_now()):
            return render(request, self.payer, self.mfa_template, mfa_error=self.bad_code)
        now = portal.clock.now()
        session.stage, session.created_at, session.last_seen = Stage.SIGNED_IN, now, now
        self.after_passcode(portal, session, user)
        portal.traffic.signed_in(client_of(request))
        return RedirectResponse(self.payer.home_path, status_code=303)
