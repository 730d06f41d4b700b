"""Batch endpoints: many tasks from one CSV file or JSON list, their progress and their results."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from runner.api.bodylimit import ENVELOPE_BYTES, allow_body
from runner.api.deps import AccountDep, CallerDep, SystemDep
from runner.api.schemas import ERROR_RESPONSES
from runner.core import batchfile
from runner.core.batches import fingerprint
from runner.core.batchfile import Rows
from runner.core.batchstate import BatchPublic, batch_public
from runner.core.errors import InvalidRequest, UnsupportedType
from sops import jsonlimits
from sops.errors import JsonRefused
from sops.types import TaskType

router = APIRouter(prefix="/batches", tags=["batches"], responses=ERROR_RESPONSES)

_CREATE_BODY = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "CSV UTF-8, header row",
                        },
                        "type": {"type": "string", "enum": [t.value for t in TaskType]},
                        "priority": {"type": "string", "enum": ["batch", "interactive"], "default": "batch"},
                    },
                }
            },
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["rows"],
                    "properties": {
                        "type": {"type": "string", "enum": [t.value for t in TaskType]},
                        "priority": {"type": "string", "enum": ["batch", "interactive"]},
                        "rows": {"type": "array", "items": {"type": ["object", "string"]}},
                    },
                },
                "example": {
                    "type": "check_eligibility",
                    "rows": [
                        {
                            "member_id": "300059049",
                            "patient": "Jane Doe",
                            "date_of_birth": "1990-01-15",
                            "payer": "acme",
                        }
                    ],
                },
            },
        },
        "required": True,
    }
}


class BatchList(BaseModel):
    data: list[BatchPublic]
    next_before: int | None


@dataclass(frozen=True)
class _Request:
    rows: Rows
    type: str | None
    priority: str | None
    source: str
    content: bytes  # what the Idempotency-Key's fingerprint covers


@router.post("", response_model=BatchPublic, openapi_extra=_CREATE_BODY, summary="Create a batch of tasks")
async def create_batch(
    request: Request,
    system: SystemDep,
    caller: CallerDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> BatchPublic:
    settings = system.settings
    limit = settings.batch_max_bytes + ENVELOPE_BYTES
    declared = request.headers.get("content-length")
    if declared and declared.isdigit():
        batchfile.check_size(int(declared) - ENVELOPE_BYTES, settings.batch_max_bytes)
    allow_body(request, limit)
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type == "multipart/form-data":
        body = await _read_multipart(request, settings.batch_max_bytes, settings.batch_max_rows)
    elif content_type == "application/json":
        body = await _read_json(request, settings.batch_max_bytes, settings.batch_max_rows)
    else:
        raise UnsupportedType(
            f"Unsupported Content-Type {content_type or '(none)'!r}: send a CSV file as multipart/form-data "
            "(field `file`) or a JSON object with `rows`.",
            accepted="multipart/form-data or application/json",
        )
    create = partial(
        system.batches.create,
        caller.account,
        body.rows,
        type=body.type,
        priority=body.priority,
        source=body.source,
        request_hash=fingerprint(body.type, body.priority, body.content),
        idempotency_key=idempotency_key,
        actor=caller.actor,
    )
    batch = await run_in_threadpool(create)
    assert batch.id is not None
    return batch_public(*await run_in_threadpool(system.batches.get, caller.account.id, batch.id))


async def _read_multipart(request: Request, max_bytes: int, max_rows: int) -> _Request:
    try:
        form = await request.form(max_files=2, max_fields=4, max_part_size=1024)
    except (MultiPartException, StarletteHTTPException) as exc:
        if isinstance(exc, StarletteHTTPException) and exc.status_code != 400:
            raise
        message = exc.message if isinstance(exc, MultiPartException) else str(exc.detail)
        raise InvalidRequest(f"The multipart body cannot be read: {message}") from None
    try:
        values: dict[str, str] = {}
        upload: UploadFile | None = None
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                if key != "file" or upload is not None:
                    raise InvalidRequest("Send one CSV file, as the field `file`.")
                upload = value
            elif key in ("type", "priority") and key not in values:
                values[key] = value
            else:
                raise InvalidRequest(
                    f"Unexpected field {key!r}: send `file`, and optionally `type` and `priority`."
                )
        if upload is None:
            raise InvalidRequest("No file: send the CSV as the multipart field `file`.")
        content = await upload.read(max_bytes + 1)
        batchfile.check_size(len(content), max_bytes)
        source = (upload.filename or "upload.csv")[:300]
    finally:
        await form.close()
    rows = await run_in_threadpool(batchfile.read_csv, content, max_rows=max_rows)
    return _Request(
        rows=rows,
        type=values.get("type") or None,
        priority=values.get("priority") or None,
        source=source,
        content=content,
    )


async def _read_json(request: Request, max_bytes: int, max_rows: int) -> _Request:
    raw = await request.body()
    batchfile.check_size(len(raw), max_bytes)
    try:
        body: Any = jsonlimits.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidRequest("The request body is not valid UTF-8.") from None
    except JsonRefused as exc:
        raise InvalidRequest(f"The request body {exc.message}.", limit=exc.limit) from None
    except json.JSONDecodeError as exc:
        raise InvalidRequest(
            f"The request body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}."
        ) from None
    if not isinstance(body, dict) or not isinstance(body.get("rows"), list):
        raise InvalidRequest(
            'Send a JSON object with `rows`, a list of rows: {"type": ..., "rows": [{...}]}.'
        )
    unknown = sorted(set(body) - {"type", "priority", "rows"})
    if unknown:
        raise InvalidRequest(f"Unknown field(s) {', '.join(unknown)}; allowed: priority, rows, type.")
    for name in ("type", "priority"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise InvalidRequest(f"`{name}` must be a string.")
    rows = batchfile.read_json_rows(body["rows"], max_rows=max_rows)
    return _Request(
        rows=rows, type=body.get("type"), priority=body.get("priority"), source="json", content=raw
    )


@router.get("", response_model=BatchList, summary="List batches, newest first")
def list_batches(
    system: SystemDep,
    account: AccountDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    before: int | None = None,
) -> BatchList:
    found = system.batches.recent(account.id, limit=limit + 1, before=before)
    page = found[:limit]
    last = page[-1].batch.id if len(found) > limit and page else None
    return BatchList(data=[batch_public(*view) for view in page], next_before=last)


@router.get("/{batch_id}", response_model=BatchPublic, summary="A batch: counts by status and progress")
def get_batch(batch_id: int, system: SystemDep, account: AccountDep) -> BatchPublic:
    return batch_public(*system.batches.get(account.id, batch_id))


@router.get(
    "/{batch_id}/results.csv",
    summary="One row per task (status, key result fields, notes) and per refused row",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}},
)
def batch_results(batch_id: int, system: SystemDep, account: AccountDep) -> StreamingResponse:
    records = system.batches.results(account.id, batch_id)
    first = next(records)  # NotFound is raised here, before the response starts
    return StreamingResponse(
        _csv_lines(first, records),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="batch-{batch_id}-results.csv"'},
    )


def _csv_lines(first: list[str], rest: Iterator[list[str]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(first)
    for record in rest:
        writer.writerow([_safe(cell) for cell in record])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _safe(cell: str) -> str:
    """A cell a spreadsheet will not run as a formula (text from a portal lands in these)."""
    if cell[:1] in ("=", "+", "@", "\t", "\r") or (cell[:1] == "-" and not cell[1:2].isdigit()):
        return "'" + cell
    return cell
