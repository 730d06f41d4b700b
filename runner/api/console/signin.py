"""Signing in and out."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from runner.api.console.auth import (
    SESSION_COOKIE,
    SIGNIN_CSRF_COOKIE,
    FormDep,
    check_origin,
    clear_session_cookie,
    new_signin_token,
    read_form,
    safe_next,
    same_token,
    set_session_cookie,
    set_signin_cookie,
)
from runner.api.console.errors import CsrfRefused
from runner.api.console.render import redirect, render, root_of
from runner.api.console.throttle import SignInThrottle
from runner.api.deps import SystemDep
from runner.core.errors import Unauthorized

router = APIRouter()


def _signin_page(
    request: Request, *, next_path: str, email: str = "", error: str | None = None, status: int = 200
) -> Response:
    token = new_signin_token()
    context = {"next": next_path, "email": email, "error": error, "signin_csrf": token}
    response = render(request, "signin.html", context, status=status)
    set_signin_cookie(request, response, token)
    return response


@router.get("/signin", name="signin")
def signin_form(request: Request, system: SystemDep, next: Annotated[str | None, Query()] = None) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token and system.operators.session(token) is not None:
        return redirect(request, safe_next(next, "/tasks"))
    return _signin_page(request, next_path=safe_next(next, "/tasks"))


@router.post("/signin")
async def signin(request: Request, system: SystemDep) -> Response:
    check_origin(request)
    posted = await read_form(request, system, uploads=False)
    if not same_token(request.cookies.get(SIGNIN_CSRF_COOKIE, ""), posted.values.get("csrf_token")):
        raise CsrfRefused()
    email, next_path = posted.text("email"), safe_next(posted.values.get("next"), "/tasks")
    throttle: SignInThrottle = request.app.state.signin_throttle
    client = request.client.host if request.client else "unknown"
    wait = throttle.retry_after(client)
    if wait is not None:
        message = f"Too many failed sign-ins from this address. Try again in {math.ceil(wait / 60)} minutes."
        page = _signin_page(request, next_path=next_path, email=email, error=message, status=429)
        page.headers["Retry-After"] = str(wait)
        return page
    try:
        signed, token = system.operators.sign_in(email, posted.values.get("password", ""))
    except Unauthorized as exc:
        throttle.failed(client)
        return _signin_page(request, next_path=next_path, email=email, error=exc.message, status=401)
    response = RedirectResponse(root_of(request) + next_path, status_code=303)
    set_session_cookie(request, response, token)
    response.delete_cookie(SIGNIN_CSRF_COOKIE, path=root_of(request) or "/")
    request.state.signed_in = signed
    return response


@router.post("/signout", name="signout")
def signout(request: Request, system: SystemDep, _form: FormDep) -> Response:
    system.operators.sign_out(request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse(root_of(request) + "/signin", status_code=303)
    clear_session_cookie(request, response)
    return response
