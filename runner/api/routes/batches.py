"""Batch endpoints: many tasks from one CSV file or JSON list, their progress and their results."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from runner.api.bodies import BodyRules, Parts, read_parts, text_field
from runner.api.bodylimit import ENVELOPE_BYTES
from runner.api.deps import AccountDep, CallerDep, SystemDep
from runner.api.schemas import ERROR_RESPONSES, IdempotencyKey
from runner.core import batchfile
from runner.core.batches import fingerprint
from runner.core.batchfile import Rows
from runner.core.batchstate import BatchPublic, batch_public
from runner.core.errors import InvalidRequest
from sops.types import TaskType

router = APIRouter(prefix="/batches", tags=["batches"], responses=ERROR_RESPONSES)

_TYPES = {"type": "string", "enum": [t.value for t in TaskType]}
_LANES = {"type": "string", "enum": ["batch", "interactive"], "default": "batch"}
# The body as `create_batch` reads it. How many rows (`maxItems`) comes from settings
# (`runner.api.openapi`). A row that cannot make a task is refused alone (the answer's `refused`),
# so any object or text is a row here; the CSV file's own rules are in the README.
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
                            "description": "CSV UTF-8, a header row of field names (or aliases); "
                            "at most SOPWRIGHT_BATCH_MAX_BYTES",
                        },
                        "type": _TYPES,
                        "priority": _LANES,
                    },
                    "additionalProperties": False,
                },
                "encoding": {"file": {"contentType": "text/csv"}},
            },
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["rows"],
                    "properties": {
                        "type": _TYPES,
                        "priority": _LANES,
                        "rows": {
                            "type": "array",
                            "minItems": 1,
                            "items": {
                                "anyOf": [{"type": "object"}, {"type": "string"}],
                                "description": "the row's fields, or its `key: value` text",
                            },
                        },
                    },
                    "additionalProperties": False,
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
    idempotency_key: IdempotencyKey = None,
) -> BatchPublic:
    settings = system.settings
    parts = await read_parts(request, _rules(settings.batch_max_bytes))
    if parts.raw is None:
        body = await run_in_threadpool(_from_form, parts, settings.batch_max_bytes, settings.batch_max_rows)
    else:
        body = _from_json(parts.values, parts.raw, settings.batch_max_rows)
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


def _rules(max_bytes: int) -> BodyRules:
    """A batch body: JSON rows, or one CSV file; either at most `max_bytes` as it arrives."""
    return BodyRules(
        json_fields=frozenset({"type", "priority", "rows"}),
        max_json_bytes=max_bytes,
        example='{"type": "check_eligibility", "rows": [{"member_id": "..."}]}',
        form_fields=frozenset({"type", "priority"}),
        file_fields=("file",),
        max_form_bytes=max_bytes + ENVELOPE_BYTES,
        max_field_chars=1024,
        max_files=2,
        max_file_bytes=max_bytes,
    )


def _from_form(parts: Parts, max_bytes: int, max_rows: int) -> _Request:
    if len(parts.files) != 1:
        raise InvalidRequest(
            "No file: send the CSV as the multipart field `file`."
            if not parts.files
            else "Send one CSV file, as the field `file`."
        )
    [upload] = parts.files
    batchfile.check_size(len(upload.content), max_bytes)
    return _Request(
        rows=batchfile.read_csv(upload.content, max_rows=max_rows),
        type=text_field(parts.values, "type") or None,
        priority=text_field(parts.values, "priority") or None,
        source=(upload.filename or "upload.csv")[:300],
        content=upload.content,
    )


def _from_json(body: dict[str, Any], raw: bytes, max_rows: int) -> _Request:
    if not isinstance(body.get("rows"), list):
        raise InvalidRequest(
            'Send a JSON object with `rows`, a list of rows: {"type": ..., "rows": [{...}]}.'
        )
    return _Request(
        rows=batchfile.read_json_rows(body["rows"], max_rows=max_rows),
        type=text_field(body, "type"),
        priority=text_field(body, "priority"),
        source="json",
        content=raw,
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
