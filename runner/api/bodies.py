"""Reading request bodies: a JSON object, or multipart form fields plus files.

Limits are enforced while reading, before anything is stored: the body's bytes as they arrive
(`runner.api.bodylimit`: each endpoint's `BodyRules` raise the request's budget to its JSON or
its multipart limit, and a declared length past it is refused before reading), the number and
size of files (read one byte past each limit, never the whole stream), the size of text fields,
and the nesting depth and number sizes of JSON (`sops.jsonlimits`). A refused request stores
nothing. `POST /tasks` and `/input` read through `read_body`; `POST /batches` through
`read_parts` (its file is a CSV, checked by the batch reader, not a document).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from runner.api.bodylimit import ENVELOPE_BYTES, allow_body, upload_limit
from runner.api.forms import FilePart, form_parts
from runner.core.errors import InvalidRequest, TooLarge, UnsupportedType
from runner.core.files import Upload, UploadLimits, check_uploads
from sops import jsonlimits
from sops.errors import JsonRefused


@dataclass(frozen=True)
class BodyRules:
    """What one endpoint's body may hold, and the limits it is read within."""

    json_fields: frozenset[str]  # the keys a JSON body may have
    max_json_bytes: int  # a JSON body, as it arrives
    example: str  # a JSON body to show when the body is empty
    form_fields: frozenset[str] = frozenset()  # a multipart body's text fields
    file_fields: tuple[str, ...] = ()  # its file fields, the documented name first; none: JSON only
    max_form_bytes: int = 0  # a multipart body, as it arrives
    max_field_chars: int = 0  # one text field of a multipart body
    max_files: int = 0  # file parts the parser takes (one more than allowed, to say how many)
    max_file_bytes: int = 0  # one file (read one byte past it)
    empty_ok: bool = False  # no body at all (no type, no length) reads as an empty object


@dataclass
class Parts:
    values: dict[str, Any]  # JSON keys or form fields
    files: list[FilePart] = field(default_factory=list)
    raw: bytes | None = None  # a JSON body as received; None: the body was a form (or empty)


@dataclass
class Body:
    values: dict[str, Any]
    uploads: list[Upload] = field(default_factory=list)


async def read_body(
    request: Request, *, allowed: set[str], limits: UploadLimits, max_text: int, files_allowed: bool = True
) -> Body:
    """A task body: JSON, or multipart with documents (`files`) checked by content."""
    text = frozenset(allowed - {"files"})
    rules = BodyRules(
        json_fields=text,
        max_json_bytes=max_text + ENVELOPE_BYTES,
        example='{"type": "check_eligibility"}',
        form_fields=text,
        file_fields=("files", "file") if files_allowed else (),
        max_form_bytes=upload_limit(limits),
        max_field_chars=max_text,
        max_files=limits.max_files + 1,
        max_file_bytes=limits.max_file_bytes,
        empty_ok=True,
    )
    parts = await read_parts(request, rules)
    return Body(parts.values, check_uploads([(f.filename, f.content) for f in parts.files], limits))


async def read_parts(request: Request, rules: BodyRules) -> Parts:
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type == "application/json" or content_type.endswith("+json"):
        allow_body(request, rules.max_json_bytes)
        raw = await _read_json_bytes(request, rules)
        return Parts(_parse_json(raw, rules), raw=raw)
    if rules.file_fields and content_type == "multipart/form-data":
        allow_body(request, rules.max_form_bytes)
        return await _read_multipart(request, rules)
    if rules.empty_ok and content_type == "" and not request.headers.get("content-length"):
        return Parts({})
    accepted = "application/json or multipart/form-data" if rules.file_fields else "application/json"
    raise UnsupportedType(
        f"Unsupported Content-Type {content_type or '(none)'!r}: send {accepted}.", accepted=accepted
    )


async def _read_json_bytes(request: Request, rules: BodyRules) -> bytes:
    raw = await request.body()  # counted as it arrives: stopped past `max_json_bytes`
    if len(raw) > rules.max_json_bytes:
        raise TooLarge(
            f"The JSON body is {_mb(len(raw))}; at most {_mb(rules.max_json_bytes)}.",
            max_bytes=rules.max_json_bytes,
        )
    if not raw.strip():
        raise InvalidRequest(f"The request body is empty: send a JSON object such as {rules.example}.")
    return raw


def _parse_json(raw: bytes, rules: BodyRules) -> dict[str, Any]:
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
    _refuse_unknown(body.keys(), rules.json_fields)
    return body


async def _read_multipart(request: Request, rules: BodyRules) -> Parts:
    try:
        parts = await form_parts(
            request,
            max_files=rules.max_files,
            max_fields=len(rules.form_fields) + 5,
            max_part_size=rules.max_field_chars + 1024,
            max_file_bytes=rules.max_file_bytes,
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
    files: list[FilePart] = []
    for key, value in parts:
        if isinstance(value, FilePart):
            if key not in rules.file_fields:
                raise InvalidRequest(
                    f"Unexpected file field {key!r}: send files as `{rules.file_fields[0]}`."
                )
            files.append(value)
        else:
            if key in rules.file_fields:
                raise InvalidRequest(f"`{key}` must be a file part, not text.")
            if key in values:
                raise InvalidRequest(f"The field {key!r} was sent more than once.")
            values[key] = value
    _refuse_unknown(values.keys(), rules.form_fields)
    return Parts(values, files)


def _refuse_unknown(keys: Any, allowed: frozenset[str]) -> None:
    unknown = sorted(set(keys) - allowed)
    if unknown:
        raise InvalidRequest(
            f"Unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}.",
            unknown=unknown,
        )


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


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
