"""What the OpenAPI document says about errors: one body shape for every 4xx and 5xx, listed on
every route that takes an API key, so that a generated client knows each status."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header, Path
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from starlette.datastructures import Headers

# A task in a URL: its integer `id`. A task's UUID (links handed out before ids were integers)
# names it too; anything else is a 404 like an unknown id.
TaskIdPath = Annotated[
    str,
    Path(
        description="The task's `id`, an integer (a UUID from a link handed out before ids were "
        "integers works too).",
        examples=["1"],
    ),
]


_IDEMPOTENCY_KEY_SAYS = (
    "1-255 characters; repeating the request with the same key and body creates nothing new."
)

# The `Idempotency-Key` header of a create: a retry with the same key and body gets the first answer.
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description=_IDEMPOTENCY_KEY_SAYS,
    ),
]


# The same rule for a route that reads the header itself (`POST /tasks`, after the key check): its
# errors are FastAPI's own, so the 422 reads as it does where FastAPI checks the header.
_IDEMPOTENCY_KEY_RULE: TypeAdapter[str] = TypeAdapter(Annotated[str, Field(min_length=1, max_length=255)])
# The header as FastAPI documents `IdempotencyKey`, for a route that declares it in `openapi_extra`.
IDEMPOTENCY_KEY_PARAMETER: dict[str, Any] = {
    "description": _IDEMPOTENCY_KEY_SAYS,
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {
        "anyOf": [{"maxLength": 255, "minLength": 1, "type": "string"}, {"type": "null"}],
        "description": _IDEMPOTENCY_KEY_SAYS,
        "title": "Idempotency-Key",
    },
}


def idempotency_key_of(headers: Headers) -> str | None:
    """The request's `Idempotency-Key` header, checked as `IdempotencyKey` checks it."""
    value = headers.get("idempotency-key")
    if value is None:
        return None
    try:
        return _IDEMPOTENCY_KEY_RULE.validate_python(value)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**error, "loc": ("header", "Idempotency-Key")} for error in exc.errors(include_url=False)]
        ) from None


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable, machine-readable: e.g. `invalid_request`, `not_found`.")
    message: str = Field(description="What is wrong and how to fix it, for a person.")
    details: dict[str, Any] = Field(description="Context: e.g. `problems` (field, message), `limit`.")


class ErrorBody(BaseModel):
    error: ErrorDetail


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


# Every route with an API key may answer these (routes add none of their own).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _error("Missing, malformed, unknown or revoked API key."),
    404: _error("No such task, file or delivery in this account (another account's is a 404 too)."),
    409: _error("The task's status does not allow this, or the Idempotency-Key was used with another body."),
    413: _error("The body, a file or the number of files or fields is over its limit."),
    415: _error("A file's content is of a type that is not accepted."),
    422: _error("The request is not valid: the message and `details.problems` say what to fix."),
    429: _error("Too many requests of this kind for now: see the Retry-After header."),
    500: _error("Something went wrong on our side; the message carries an incident id."),
}

# `data` as it is read: `key: value` text without control characters other than tabs and line
# breaks (text starting with `{` is read as a JSON object, so send an object as an object), or a
# JSON object. Its longest length comes from settings (`runner.api.openapi`).
DATA_TEXT: dict[str, Any] = {
    "type": "string",
    "pattern": "^(?!\\s*\\{)[^\\u0000-\\u0008\\u000e-\\u001f\\u007f-\\u009f]*$",
}
DATA_FIELD: dict[str, Any] = {
    "anyOf": [DATA_TEXT, {"type": "object"}],
    "description": "`key: value` lines, or a JSON object",
}
DOCUMENTS: dict[str, Any] = {  # `files`: how many comes from settings (`runner.api.openapi`)
    "type": "array",
    "items": {"type": "string", "format": "binary"},
    "description": "Documents: PDF, PNG, JPEG, TIFF or plain text, typed by content",
}
DOCUMENT_ENCODING = {
    "files": {"contentType": "application/pdf, image/png, image/jpeg, image/tiff, text/plain"}
}

# The body of `POST /tasks/{id}/input`, read by hand (JSON or multipart with files); no body at
# all checks a task whose data is complete again.
INPUT_BODY: dict[str, Any] = {
    "requestBody": {
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "data": {
                            **DATA_FIELD,
                            "description": "`key: value` lines or a JSON object; leave out to check a task "
                            "whose data is complete again (it waited on a portal login)",
                        }
                    },
                    "additionalProperties": False,
                },
                "example": {"data": "date_of_birth: 1990-01-15"},
            },
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"data": DATA_TEXT, "files": DOCUMENTS},
                    "additionalProperties": False,
                },
                "encoding": DOCUMENT_ENCODING,
            },
        },
        "required": False,
    }
}
