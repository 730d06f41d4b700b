"""Errors of the console, and the one boundary where any error becomes an HTML page.

Exception
 ├── SignInRequired   no valid session cookie: redirect to the sign-in page
 └── CsrfRefused      a form without this session's CSRF token, or from another origin
Core errors (runner.core.errors) become a page with their message and the matching status.
"""

from __future__ import annotations

import logging
import uuid
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from runner.api.console.render import render
from runner.api.errors import status_for
from runner.core.errors import SopwrightError
from runner.core.operators import Forbidden

log = logging.getLogger(__name__)


class SignInRequired(Exception):
    """The request needs a signed-in operator."""


class CsrfRefused(Exception):
    """The form did not carry this session's CSRF token, or came from another site."""


_TITLES = {
    400: "Bad request",
    403: "Not allowed",
    404: "Not found",
    409: "Not possible now",
    413: "Too large",
    415: "Unsupported file",
    422: "Check the request",
    500: "Something went wrong",
}


def error_page(request: Request, status: int, message: str) -> Response:
    return render(
        request,
        "error.html",
        {"status": status, "heading": _TITLES.get(status, "Error"), "message": message},
        status=status,
    )


async def _sign_in_required(request: Request, _exc: Exception) -> Response:
    root = request.scope.get("root_path", "")
    target = request.url.path.removeprefix(root) + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET" or target.startswith("/signin"):
        return RedirectResponse(f"{root}/signin", status_code=303)
    return RedirectResponse(f"{root}/signin?next={quote(target, safe='')}", status_code=303)


async def _csrf_refused(request: Request, _exc: Exception) -> Response:
    return error_page(
        request,
        403,
        "This form expired or did not come from this console, so nothing was done. "
        "Reload the page and try again.",
    )


async def _sopwright_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SopwrightError)
    status = 403 if isinstance(exc, Forbidden) else status_for(exc)
    return error_page(request, status, exc.message)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    names = ", ".join(str(err.get("loc", ("?",))[-1]) for err in exc.errors())
    return error_page(request, 422, f"Some values in the address are not valid ({names}).")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    message = "There is no such page." if exc.status_code == 404 else str(exc.detail)
    return error_page(request, exc.status_code, message)


async def _unexpected(request: Request, exc: Exception) -> Response:
    incident = uuid.uuid4().hex[:12]
    log.exception("console: unexpected error, incident %s", incident, exc_info=exc)
    return error_page(request, 500, f"Something went wrong on our side (incident {incident}).")


def install(app: FastAPI) -> None:
    app.add_exception_handler(SignInRequired, _sign_in_required)
    app.add_exception_handler(CsrfRefused, _csrf_refused)
    app.add_exception_handler(SopwrightError, _sopwright_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
