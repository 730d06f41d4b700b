"""Acme sign-in: username + password (lockout after repeated failures), then a TOTP code."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mock_portal import signin
from mock_portal.access import signed_in
from mock_portal.pages import render
from mock_portal.payers import ACME as PAYER

SIGN_IN = signin.SignIn(
    payer=PAYER,
    login_template="acme/login.html",
    mfa_template="acme/mfa.html",
    code_field="code",
    wrong_credentials="The username or password you entered is incorrect.",
    locked=(
        "Your account has been locked after too many unsuccessful sign-in attempts. "
        "Call Acme Provider Services to unlock it."
    ),
    bad_code="That code is incorrect or has expired. Codes change every 30 seconds.",
)

router = APIRouter(prefix=PAYER.base_path)


@router.get("")
@router.get("/")
def root() -> Response:
    return signin.home(SIGN_IN)


@router.get("/login")
def login(request: Request) -> Response:
    return signin.login_page(request, SIGN_IN)


@router.post("/login")
async def submit_login(request: Request) -> Response:
    return await signin.submit_login(request, SIGN_IN)


@router.get("/login/verify")
def mfa(request: Request) -> Response:
    return signin.passcode_page(request, SIGN_IN)


@router.post("/login/verify")
async def submit_mfa(request: Request) -> Response:
    return await signin.submit_passcode(request, SIGN_IN)


@router.get("/home")
def home(request: Request) -> Response:
    session, user = signed_in(request, PAYER)
    return render(request, PAYER, "acme/home.html", session=session, user=user)
