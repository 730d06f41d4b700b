"""Acme sign-in: username + password (lockout after repeated failures), then a TOTP code."""

from __future__ import annotations

from fastapi import Request
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

router = SIGN_IN.router()


@router.get("/home")
def home(request: Request) -> Response:
    session, user = signed_in(request, PAYER)
    return render(request, PAYER, "acme/home.html", session=session, user=user)
