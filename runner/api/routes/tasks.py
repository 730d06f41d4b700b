"""Task endpoints (Serene's `POST /tasks`, plus reads and the human-in-the-loop actions)."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException

from runner.api.artifacts import document_response
from runner.api.bodies import Body, read_body, text_field
from runner.api.deps import AccountDep, Caller, CallerDep, SystemDep, caller_of
from runner.api.schemas import (
    DATA_FIELD,
    DATA_TEXT,
    DOCUMENT_ENCODING,
    DOCUMENTS,
    ERROR_RESPONSES,
    IDEMPOTENCY_KEY_PARAMETER,
    INPUT_BODY,
    TaskIdPath,
    idempotency_key_of,
)
from runner.core.errors import InvalidRequest, SopwrightError
from runner.core.public import TaskPublic, task_public
from runner.core.refs import MAX_PUBLIC_ID
from runner.core.states import TaskStatus
from runner.core.system import System
from runner.core.tasks import TaskFilter
from sops.types import TaskType

router = APIRouter(prefix="/tasks", tags=["tasks"], responses=ERROR_RESPONSES)

_TYPES = {"type": "string", "enum": [t.value for t in TaskType]}
_CREATE_BODY = {
    "requestBody": {
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["type"],
                    "properties": {
                        "type": _TYPES,
                        "data": DATA_FIELD,
                        "priority": {
                            "type": "string",
                            "enum": ["interactive", "batch"],
                            "default": "interactive",
                        },
                    },
                    "additionalProperties": False,
                },
                "example": {
                    "type": "submit_claim",
                    "data": (
                        "member_id: 300059049\npatient: Jane Doe\nDOB: 1990-01-15\nservice_date: 2025-03-20"
                    ),
                },
            },
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["type"],
                    "properties": {
                        "type": _TYPES,
                        "data": DATA_TEXT,
                        "priority": {"type": "string", "enum": ["interactive", "batch"]},
                        "files": DOCUMENTS,
                    },
                    "additionalProperties": False,
                },
                "encoding": DOCUMENT_ENCODING,
            },
        },
        "required": True,
    }
}


class TaskList(BaseModel):
    data: list[TaskPublic]
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next (older) page.")


class ReviewRequest(BaseModel):
    decision: Literal["approve", "reject"]
    notes: str | None = Field(default=None, max_length=5000)


class CancelRequest(BaseModel):
    reason: str | None = Field(default=None, max_length=2000)


@router.post(
    "",
    response_model=TaskPublic,
    openapi_extra={
        **_CREATE_BODY,
        "parameters": [IDEMPOTENCY_KEY_PARAMETER],  # read by hand below, after the key check
        "security": [{"HTTPBearer": []}],
    },
    summary="Create a task",
)
async def create_task(request: Request) -> Response:
    # One trip off the event loop checks the key, creates the task and builds the answer. The
    # request is read by hand, not through dependencies (the document says what `CallerDep` and
    # `IdempotencyKey` would), keeping their order of errors: the key's 401 first, then the
    # header's 422, then the body's. A JSON body is read before the key is checked (its errors
    # held until then); a multipart body (files) never is: its key is checked in a trip of its own.
    # (A comment, not a docstring: FastAPI would publish a docstring as the operation's description.)
    system: System = request.app.state.system
    if request.headers.get("content-type", "").split(";", 1)[0].strip().lower() == "multipart/form-data":
        caller = await run_in_threadpool(caller_of, system, request.headers)
        idempotency_key = idempotency_key_of(request.headers)
        body = await _read_task_body(request, system)
        return await run_in_threadpool(_create, system, caller, body, idempotency_key)
    read: Body | SopwrightError | StarletteHTTPException
    try:
        read = await _read_task_body(request, system)
    except (SopwrightError, StarletteHTTPException) as exc:  # reported after the key check
        read = exc
    return await run_in_threadpool(_check_and_create, system, request.headers, read)


async def _read_task_body(request: Request, system: System) -> Body:
    return await read_body(
        request,
        allowed={"type", "data", "files", "priority"},
        limits=system.upload_limits,
        max_text=system.settings.max_data_chars,
    )


def _check_and_create(
    system: System, headers: Headers, read: Body | SopwrightError | StarletteHTTPException
) -> Response:
    caller = caller_of(system, headers)
    idempotency_key = idempotency_key_of(headers)
    if not isinstance(read, Body):
        raise read
    return _create(system, caller, read, idempotency_key)


def _create(system: System, caller: Caller, body: Body, idempotency_key: str | None) -> Response:
    task, files = system.tasks.create_with_files(
        caller.account,
        type=text_field(body.values, "type"),
        data=text_field(body.values, "data"),
        uploads=body.uploads,
        idempotency_key=idempotency_key,
        priority=text_field(body.values, "priority"),
        actor=caller.actor,
    )
    # The answer FastAPI would serialise from the response model, without validating it again.
    return Response(task_public(task, files).model_dump_json(by_alias=True), media_type="application/json")


@router.get("", response_model=TaskList, summary="List tasks, newest first")
def list_tasks(
    system: SystemDep,
    account: AccountDep,
    status: TaskStatus | None = None,
    type: TaskType | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    parent_task_id: Annotated[
        int | None,
        Query(ge=1, le=MAX_PUBLIC_ID, description="Only the follow-ups of this task (its integer `id`)."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: str | None = None,
) -> TaskList:
    for name, value in (("created_after", created_after), ("created_before", created_before)):
        if value is not None and value.tzinfo is None:
            raise InvalidRequest(f"`{name}` needs a time zone, e.g. 2025-03-20T00:00:00Z.")
    page = system.tasks.search(
        account.id,
        TaskFilter(
            status=status,
            type=type,
            created_after=created_after,
            created_before=created_before,
            parent_task_id=parent_task_id,
        ),
        limit=limit,
        cursor=cursor,
    )
    return TaskList(data=[task_public(t, page.files[t.id]) for t in page.tasks], next_cursor=page.next_cursor)


@router.get("/{task_id}", response_model=TaskPublic, summary="Get a task")
def get_task(task_id: TaskIdPath, system: SystemDep, account: AccountDep) -> TaskPublic:
    return task_public(*system.tasks.get(account.id, task_id))


@router.post(
    "/{task_id}/input",
    response_model=TaskPublic,
    openapi_extra=INPUT_BODY,
    summary="Supply missing or corrected data",
)
async def supply_input(
    task_id: TaskIdPath, request: Request, system: SystemDep, caller: CallerDep
) -> TaskPublic:
    body = await read_body(
        request,
        allowed={"data", "files"},
        limits=system.upload_limits,
        max_text=system.settings.max_data_chars,
    )
    await run_in_threadpool(
        partial(
            system.tasks.supply_input,
            caller.account,
            task_id,
            data=text_field(body.values, "data"),
            uploads=body.uploads,
            actor=caller.actor,
        )
    )
    return task_public(*await run_in_threadpool(system.tasks.get, caller.account.id, task_id))


@router.post("/{task_id}/review", response_model=TaskPublic, summary="Approve or reject a task in review")
def review_task(
    task_id: TaskIdPath, review: ReviewRequest, system: SystemDep, caller: CallerDep
) -> TaskPublic:
    system.tasks.review(
        caller.account.id,
        task_id,
        approve=review.decision == "approve",
        notes=review.notes,
        actor=caller.actor,
    )
    return task_public(*system.tasks.get(caller.account.id, task_id))


@router.post("/{task_id}/cancel", response_model=TaskPublic, summary="Cancel a task that is not final")
def cancel_task(
    task_id: TaskIdPath,
    system: SystemDep,
    caller: CallerDep,
    cancel: CancelRequest | None = None,
) -> TaskPublic:
    system.tasks.cancel(
        caller.account.id, task_id, reason=cancel.reason if cancel else None, actor=caller.actor
    )
    return task_public(*system.tasks.get(caller.account.id, task_id))


@router.post(
    "/{task_id}/follow-up",
    response_model=TaskPublic,
    summary="Check a follow-up now",
    description=(
        "Makes a pending follow-up task (a claim or authorization status check) due now. `task_id` "
        "names the follow-up or the task it follows up; the answer is the follow-up. 409 when there "
        "is no pending follow-up."
    ),
)
def check_follow_up_now(task_id: TaskIdPath, system: SystemDep, caller: CallerDep) -> TaskPublic:
    child = system.follow_ups.check_now(caller.account.id, task_id, actor=caller.actor)
    return task_public(*system.tasks.get(caller.account.id, child.id))


@router.get("/{task_id}/files/{file_id}", summary="Download a task's document")
def get_file(task_id: TaskIdPath, file_id: str, system: SystemDep, account: AccountDep) -> Response:
    row, content = system.tasks.file(account.id, task_id, file_id)
    return document_response(row, content)
