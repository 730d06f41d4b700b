"""Request bodies are counted as they arrive, on every route: past its limit a request stops at
once with a 413, declared length or not.

Checking `Content-Length` alone let a chunked body through: it was buffered whole (JSON) or
spooled to disk (multipart) before any check. `BodyLimit` wraps the ASGI `receive` of each HTTP
request and raises `BodyTooLarge` as soon as the bytes received pass the request's limit (or at
once if the declared length does), so nothing more is read. Every request gets the text limit
(`data` plus an envelope); a route that takes files raises its own request's limit to the upload
limit with `allow_uploads` before reading. Starlette's `max_body_size` is not used: its limits
are fixed per route at import, while ours come from settings and depend on the content type,
and it answers a declared over-long body with a plain-text 413 instead of our error shapes.

`BodyTooLarge` is an HTTP exception so that every reader lets it through (FastAPI turns other
errors while reading a body into a 400); the API and the console render it in their own shape.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from runner.core.files import UploadLimits

# Room for JSON or multipart framing and the other text fields on top of `data` or the files.
ENVELOPE_BYTES = 2 * 1024 * 1024
_SCOPE_KEY = "sopwright.body_budget"


def text_limit(max_data_chars: int) -> int:
    """The largest body of a request without files (a JSON body's `data` may be escaped)."""
    return max_data_chars + ENVELOPE_BYTES


def upload_limit(limits: UploadLimits) -> int:
    """The largest body of a request with files."""
    return limits.max_total_bytes + ENVELOPE_BYTES


class BodyTooLarge(HTTPException):
    """The request body passed its limit; `limit` is in bytes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(
            status_code=413,
            detail=f"The request body is too large: this endpoint takes at most {_size(limit)}. "
            "Send shorter data, or fewer or smaller files.",
        )


@dataclass
class _Budget:
    limit: int
    declared: int | None
    received: int = 0
    refused: bool = False

    def check(self) -> None:
        if self.received > self.limit or (self.declared is not None and self.declared > self.limit):
            self.refused = True
            raise BodyTooLarge(self.limit)


class BodyLimit:
    """ASGI middleware: counts each HTTP request's body as it arrives, stops it past its limit."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        budget = _Budget(self.limit, _declared_length(scope))
        scope[_SCOPE_KEY] = budget

        async def counted() -> Message:
            if budget.refused:
                # Refused once (and answered): read nothing more. Whoever asks again, e.g. a
                # middleware listening for the client to go away, hears that it went away.
                return {"type": "http.disconnect"}
            budget.check()
            message = await receive()
            if message["type"] == "http.request":
                budget.received += len(message.get("body", b""))
                budget.check()
            return message

        await self.app(scope, counted, send)


def allow_uploads(request: Request, limits: UploadLimits) -> None:
    """Raise this request's limit to the upload limit (a route that takes files), before reading."""
    budget = request.scope.get(_SCOPE_KEY)
    if isinstance(budget, _Budget):
        budget.limit = max(budget.limit, upload_limit(limits))


def allow_body(request: Request, limit: int) -> None:
    """Raise this request's limit to `limit` bytes (a route that takes a large body), before reading."""
    budget = request.scope.get(_SCOPE_KEY)
    if isinstance(budget, _Budget):
        budget.limit = max(budget.limit, limit)


def _declared_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length")
    return int(value) if value is not None and value.isdigit() else None


def _size(limit: int) -> str:
    megabytes = limit / (1024 * 1024)
    return f"{megabytes:.0f} MB" if megabytes >= 1 else f"{limit // 1024} KB"
