"""Reading request bodies: a JSON object, or multipart form fields plus `files`.

Limits are enforced while reading, before anything is stored: the body's bytes as they arrive
(`runner.api.bodylimit`; a multipart body with files may reach the upload limit), the number
and size of files (read one byte past each limit, never the whole stream), the size of text
fields, and the nesting depth and number sizes of JSON (`sops.jsonlimits`). A refused request
stores nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from runner.api.bodylimit import ENVELOPE_BYTES, allow_uploads, upload_limit
from runner.api.forms import FilePart, form_parts
from runner.core.errors import InvalidRequest, TooLarge, UnsupportedType
from runner.core.files import Upload, UploadLimits, check_uploads
from sops import jsonlimits
from sops.errors import JsonRefused


@dataclass
class Body:
    values: dict[str, Any]
    uploads: list[Upload] = field(default_factory=list)


async def read_body(
    request: Request, *, allowed: set[str], limits: UploadLimits, max_text: int, files_allowed: bool = True
) -> Body:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > upload_limit(limits):
        raise TooLarge(f"The request body is too large (limit {limits.max_total_bytes // (1024 * 1024)} MB).")
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type == "application/json" or content_type.endswith("+json"):
        return Body(await _read_json(request, allowed, max_text))
    if files_allowed and content_type == "multipart/form-data":
        allow_uploads(request, limits)
        return await _read_multipart(request, allowed, limits, max_text)
    if content_type == "" and not declared:
        return Body({})
    accepted = "application/json or multipart/form-data" if files_allowed else "application/json"
    raise UnsupportedType(
        f"Unsupported Content-Type {content_type or '(none)'!r}: send {accepted}.", accepted=accepted
    )


async def _read_json(request: Request, allowed: set[str], max_text: int) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > max_text + ENVELOPE_BYTES:
        raise TooLarge("The JSON body is too large.")
    if not raw.strip():
        raise InvalidRequest(
            'The request body is empty: send a JSON object such as {"type": "check_eligibility"}.'
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequest("The request body is not valid UTF-8.") from None
    try:
        body = jsonlimits.loads(text)
    except JsonRefused as exc:
        raise InvalidRequest(f"The request body {exc.message}.", limit=exc.limit) from None
    except json.JSONDecodeError as exc:
        raise InvalidRequest(
            f"The request body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}."
        ) from None
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    _refuse_unknown(body.keys(), allowed)
    return body


async def _read_multipart(request: Request, allowed: set[str], limits: UploadLimits, max_text: int) -> Body:
    try:
        parts = await form_parts(
            request,
            max_files=limits.max_files + 1,
            max_fields=len(allowed) + 5,
            max_part_size=max_text + 1024,
            max_file_bytes=limits.max_file_bytes,
        )
    except (MultiPartException, StarletteHTTPException) as exc:
        # Starlette reports a multipart it cannot parse as an HTTP 400 (wrapping its
        # MultiPartException): too many parts or a part too large is a 413, the rest a 422.
        # Other statuses (the body limit's 413) pass through as they are.
        if isinstance(exc, StarletteHTTPException) and exc.status_code != 400:
            raise
        message = exc.message if isinstance(exc, MultiPartException) else str(exc.detail)
        if any(word in message.lower() for word in ("too many", "exceeded maximum size", "maximum size")):
            raise TooLarge(f"The multipart body is too large: {message}") from None
        raise InvalidRequest(f"The multipart body cannot be read: {message}") from None
    values: dict[str, Any] = {}
    raw_files: list[tuple[str | None, bytes]] = []
    for key, value in parts:
        if isinstance(value, FilePart):
            if key not in ("files", "file"):
                raise InvalidRequest(f"Unexpected file field {key!r}: send documents as `files`.")
            raw_files.append((value.filename, value.content))
        else:
            if key in ("files", "file"):
                raise InvalidRequest("`files` must be file parts, not text.")
            if key in values:
                raise InvalidRequest(f"The field {key!r} was sent more than once.")
            values[key] = value
    _refuse_unknown(values.keys(), allowed - {"files"})
    return Body(values, check_uploads(raw_files, limits))


def _refuse_unknown(keys: Any, allowed: set[str]) -> None:
    unknown = sorted(set(keys) - allowed)
    if unknown:
        raise InvalidRequest(
            f"Unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}.",
            unknown=unknown,
        )


def text_field(values: dict[str, Any], name: str) -> str | None:
    """A text field; a JSON object or array given as `data` is kept as its JSON text."""
    value = values.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if name == "data" and isinstance(value, dict | list):
        return json.dumps(value)
    raise InvalidRequest(f"`{name}` must be a string.")
