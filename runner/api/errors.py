"""The one boundary where errors become HTTP responses: `{"error": {"code", "message", "details"}}`."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from runner.core.errors import (
    ConfigError,
    Conflict,
    InvalidRequest,
    NotFound,
    RateLimited,
    SopwrightError,
    TooLarge,
    Unauthorized,
    UnsupportedType,
    UploadRejected,
)

log = logging.getLogger(__name__)

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_STATUS: list[tuple[type[SopwrightError], int]] = [
    (NotFound, 404),
    (Conflict, 409),
    (Unauthorized, 401),
    (RateLimited, 429),
    (TooLarge, 413),
    (UnsupportedType, 415),
    (UploadRejected, 422),
    (InvalidRequest, 422),
    (ConfigError, 500),
]


def error_response(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    *,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """`headers`: kept (e.g. the `Allow` of a 405, which RFC 9110 requires)."""
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if status == 429 and details and "retry_after" in details:
        headers["Retry-After"] = str(details["retry_after"])
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return JSONResponse(body, status_code=status, headers=headers)


def status_for(exc: SopwrightError) -> int:
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            return status
    return 400


async def _sopwright_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SopwrightError)
    status = status_for(exc)
    if status >= 500:
        log.error("configuration error: %s", exc.message)
    return error_response(status, exc.code, exc.message, _jsonable(exc.details))


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [_problem(err) for err in exc.errors()]
    summary = "; ".join(f"{p['field'] or 'body'}: {p['message']}" for p in problems)
    return error_response(
        422, "invalid_request", f"The request is not valid: {summary}", {"problems": problems}
    )


def _problem(err: Any) -> dict[str, str]:
    if err.get("type") == "json_invalid":  # its "loc" is the character offset, not a field
        reason = (err.get("ctx") or {}).get("error") or "it cannot be parsed"
        return {"field": "", "message": f"the request body is not valid JSON ({reason})"}
    field = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
    return {"field": field, "message": err.get("msg", "")}


# What FastAPI raises (a 400) when a JSON body cannot even be decoded, e.g. bytes that are not
# UTF-8 text; a body that decodes but does not parse is already a 422 (`json_invalid`).
_UNDECODABLE_BODY = "There was an error parsing the body"


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.detail == _UNDECODABLE_BODY:
        return error_response(
            422,
            "invalid_request",
            "The request is not valid: body: the request body is not valid JSON (it is not UTF-8 "
            "text); send JSON encoded as UTF-8.",
            {"problems": [{"field": "", "message": "the request body is not valid JSON"}]},
        )
    code = {404: "not_found", 405: "method_not_allowed", 400: "bad_request", 413: "too_large"}.get(
        exc.status_code, "http_error"
    )
    message = exc.detail if isinstance(exc.detail, str) else "Request failed."
    if exc.status_code == 404 and message == "Not Found":
        message = "No such endpoint."
    headers = exc.headers
    if exc.status_code == 405:
        headers = {**(headers or {}), "Allow": ", ".join(_allowed(request))}
    return error_response(exc.status_code, code, message, headers=headers)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed(request: Request) -> list[str]:
    """Every method the request's path takes (RFC 9110's `Allow`): the router's own 405 names only
    the first route of the path (`POST /tasks`, not also `GET /tasks`)."""
    routes = request.app.router.routes
    return [
        method
        for method in _METHODS
        if any(route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes)
    ]


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    incident = uuid.uuid4().hex[:12]
    log.exception("unexpected error, incident %s", incident, exc_info=exc)
    message = f"Something went wrong on our side (incident {incident})."
    if request.method not in _SAFE_METHODS:
        # The error may come after a commit (e.g. while rendering the answer): never claim that
        # nothing was saved, say how to find out instead.
        message += (
            " The request may have taken effect: check (e.g. GET /tasks) before sending it again; "
            "a POST /tasks repeated with the same Idempotency-Key is always safe."
        )
    return error_response(500, "internal_error", message)


def install(app: FastAPI) -> None:
    app.add_exception_handler(SopwrightError, _sopwright_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


def _jsonable(details: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v if isinstance(v, str | int | float | bool | list | dict | type(None)) else str(v)
        for k, v in details.items()
    }
