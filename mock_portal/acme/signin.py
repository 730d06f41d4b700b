"""Acme sign-in: username + password (lockout after repeated failures), then a TOTP code."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from mock_portal.access import Redirect, client_of, portal_of, signed_in
from mock_portal.credentials import PasswordCheck, check_password, check_totp
from mock_portal.forms import form_dict
from mock_portal.pages import Pages
from mock_portal.payers import ACME as PAYER
from mock_portal.sessions import Session, Stage

WRONG_CREDENTIALS = "The username or password you entered is incorrect."
LOCKED = (
    "Your account has been locked after too many unsuccessful sign-in attempts. "
    "Call Acme Provider Services to unlock it."
)
BAD_CODE = "That code is incorrect or has expired. Codes change every 30 seconds."


def router(pages: Pages) -> APIRouter:
    r = APIRouter(prefix=PAYER.base_path)

    def login_page(request: Request, error: str = "", form: dict[str, str] | None = None) -> Response:
        reason = request.query_params.get("reason", "")
        return pages.render(
            request, PAYER, "acme/login.html", reason=reason, login_error=error, form=form or {}
        )

    @r.get("")
    @r.get("/")
    def root() -> Response:
        return RedirectResponse(PAYER.home_path, status_code=303)

    @r.get("/login")
    def login(request: Request) -> Response:
        portal = portal_of(request)
        if portal.traffic.needs_captcha(client_of(request), portal.knobs.captcha):
            raise Redirect(PAYER.url("/captcha"))
        return login_page(request)

    @r.post("/login")
    async def submit_login(request: Request) -> Response:
        portal = portal_of(request)
        client = client_of(request)
        if portal.traffic.needs_captcha(client, portal.knobs.captcha):
            raise Redirect(PAYER.url("/captcha"))
        form = form_dict(await request.form())
        user = portal.state.user(PAYER.key, form.get("username", ""))
        result = check_password(user, form.get("password", ""), portal.knobs.lockout_threshold)
        if result is not PasswordCheck.OK or user is None:
            portal.traffic.login_failed(client)
            message = LOCKED if result is PasswordCheck.LOCKED else WRONG_CREDENTIALS
            return login_page(request, message, {"username": form.get("username", "")})
        session = portal.sessions.create(PAYER.key, user.username, portal.clock.now())
        response = RedirectResponse(PAYER.mfa_path, status_code=303)
        response.set_cookie(
            PAYER.session_cookie, session.sid, path=PAYER.base_path, httponly=True, samesite="lax"
        )
        return response

    def pending_session(request: Request) -> Session:
        portal = portal_of(request)
        session = portal.sessions.get(request.cookies.get(PAYER.session_cookie), PAYER.key)
        if session is None or session.stage is not Stage.PASSWORD_OK:
            raise Redirect(PAYER.url("/login"))
        return session

    @r.get("/login/verify")
    def mfa(request: Request) -> Response:
        pending_session(request)
        return pages.render(request, PAYER, "acme/mfa.html", mfa_error="")

    @r.post("/login/verify")
    async def submit_mfa(request: Request) -> Response:
        portal = portal_of(request)
        session = pending_session(request)
        user = portal.state.user(PAYER.key, session.username)
        form = form_dict(await request.form())
        if user is None or not check_totp(user, form.get("code", ""), portal.clock.real_now()):
            return pages.render(request, PAYER, "acme/mfa.html", mfa_error=BAD_CODE)
        now = portal.clock.now()
        session.stage, session.created_at, session.last_seen = Stage.SIGNED_IN, now, now
        portal.traffic.signed_in(client_of(request))
        return RedirectResponse(PAYER.home_path, status_code=303)

    @r.get("/home")
    def home(request: Request) -> Response:
        session, user = signed_in(request, PAYER)
        return pages.render(request, PAYER, "acme/home.html", session=session, user=user)

    return r
