"""Who is asking: the session cookie, the signed-in operator, and CSRF-checked form bodies.

The session cookie is HttpOnly, SameSite=Lax, scoped to the console's path, and Secure when the
console is served over https. Every POST carries the session's CSRF token in a hidden field
(compared in constant time) and, when the browser sends an Origin, that origin must be ours.
The sign-in form, which has no session yet, uses a double-submit token in a short-lived cookie.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response
from starlette.formparsers import MultiPartException

from runner.api.bodylimit import allow_uploads, upload_limit
from runner.api.console.errors import CsrfRefused, SignInRequired
from runner.api.console.render import root_of
from runner.api.deps import SystemDep
from runner.api.forms import FilePart, form_parts
from runner.core.errors import InvalidRequest, TooLarge
from runner.core.files import Upload, check_uploads
from runner.core.operators import SESSION_LIFETIME, SignedIn

SESSION_COOKIE = "sopwright_session"
SIGNIN_CSRF_COOKIE = "sopwright_signin_csrf"
REFRESH_HEADER = "x-console-refresh"


def signed_in(request: Request, system: SystemDep) -> SignedIn:
    token = request.cookies.get(SESSION_COOKIE, "")
    # A live page re-fetching itself (console.js) is not a person at work: it does not extend the session.
    activity = request.headers.get(REFRESH_HEADER) is None
    signed = system.operators.session(token, activity=activity) if token else None
    if signed is None:
        raise SignInRequired()
    request.state.signed_in = signed
    return signed


OperatorDep = Annotated[SignedIn, Depends(signed_in)]


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path=root_of(request) or "/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path=root_of(request) or "/")


def new_signin_token() -> str:
    return secrets.token_urlsafe(32)


def set_signin_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SIGNIN_CSRF_COOKIE,
        token,
        max_age=3600,
        path=root_of(request) or "/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def same_token(expected: str, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


def check_origin(request: Request) -> None:
    """A browser names the page that posted; refuse posts from other origins (CSRF in depth)."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    ours = f"{request.url.scheme}://{request.url.netloc}"
    if origin != ours:
        raise CsrfRefused()


@dataclass
class Posted:
    """A posted form: its text fields and checked uploads."""

    values: dict[str, str]
    uploads: list[Upload] = field(default_factory=list)

    def text(self, name: str) -> str:
        return self.values.get(name, "").strip()


async def read_form(request: Request, system: SystemDep, *, uploads: bool = True) -> Posted:
    """The form body (urlencoded or multipart, with `files` if `uploads`); empty file inputs are
    skipped. Without `uploads` (the sign-in form) the body stays within the text limit."""
    limits = system.upload_limits
    declared = request.headers.get("content-length")
    if uploads:
        if declared and declared.isdigit() and int(declared) > upload_limit(limits):
            raise TooLarge(f"The upload is too large (limit {limits.max_total_bytes // (1024 * 1024)} MB).")
        allow_uploads(request, limits)
    try:
        parts = await form_parts(
            request,
            max_files=limits.max_files + 1 if uploads else 0,
            max_fields=200,
            max_part_size=system.settings.max_data_chars + 1024,
            max_file_bytes=limits.max_file_bytes,
        )
    except MultiPartException as exc:
        raise InvalidRequest(f"The form cannot be read: {exc.message}") from None
    values: dict[str, str] = {}
    raw_files: list[tuple[str | None, bytes]] = []
    for key, value in parts:
        if isinstance(value, FilePart):
            if key == "files" and (value.filename or value.content):
                raw_files.append((value.filename, value.content))
        else:
            values.setdefault(key, value)
    return Posted(values, check_uploads(raw_files, limits) if raw_files else [])


async def checked_form(request: Request, signed: OperatorDep, system: SystemDep) -> Posted:
    """A form posted by the signed-in operator from this console (CSRF token and origin checked)."""
    check_origin(request)
    posted = await read_form(request, system)
    if not same_token(signed.session.csrf_token, posted.values.get("csrf_token")):
        raise CsrfRefused()
    return posted


FormDep = Annotated[Posted, Depends(checked_form)]


def safe_next(value: str | None, default: str) -> str:
    """A console-relative path to return to; anything else (another site) gives `default`."""
    if not value or not value.isprintable() or "\\" in value:
        return default
    return value if value.startswith("/") and not value.startswith("//") else default
