"""The task as clients see it: Serene's field names plus ours. Used by the API and by webhooks.

Serene's names are exactly `id, accountId, task_number, status, handler, title, instructions,
trajectory_id, startedAt, completedAt, failedAt, notes, createdAt, updatedAt`; timestamps are
ISO 8601 UTC with milliseconds and `Z`. `id`, `accountId` and `trajectory_id` are integers, as in
Serene's example (`"id": 1, "accountId": 1`); the UUIDs the rows also carry stay inside.

Stored values are rendered whatever their shape: `fields` and `result` are cut at the JSON depth
limit (a row stored before the limit existed could nest deeper than pydantic serialises) and an
odd `problems` entry is shown as text, so no stored row can make a read, a list, a cancel or a
webhook fail.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from runner.core.tables import Task, TaskFile
from runner.core.tables.base import as_utc
from sops.jsonlimits import pruned


def iso_z(value: datetime | None) -> str | None:
    value = as_utc(value)
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


class FilePublic(BaseModel):
    """A task's document; download it at GET /tasks/{id}/files/{file_id}."""

    id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    source: Literal["upload", "portal"] = Field(
        description="`upload`: sent with the task; `portal`: kept from the payer portal by the worker."
    )
    kind: str | None = Field(
        description="What a portal document is: confirmation, approval_letter, denial_letter, eob or "
        "document; null for uploads."
    )


class ProblemPublic(BaseModel):
    field: str
    message: str


class TaskPublic(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: int = Field(description="The task's id, unique in this installation; use it in URLs.")
    account_id: int = Field(serialization_alias="accountId")
    task_number: int
    status: str
    handler: str
    title: str
    instructions: str
    trajectory_id: int | None = Field(description="The latest attempt's id (see GET /tasks/{id}/trajectory).")
    started_at: str | None = Field(serialization_alias="startedAt")
    completed_at: str | None = Field(serialization_alias="completedAt")
    failed_at: str | None = Field(serialization_alias="failedAt")
    notes: str | None
    created_at: str = Field(serialization_alias="createdAt")
    updated_at: str = Field(serialization_alias="updatedAt")
    # Our additions.
    type: str
    priority: str
    batch_id: int | None
    payer: str | None
    result: dict[str, Any] | None
    fields: dict[str, Any]
    problems: list[ProblemPublic]
    files: list[FilePublic]
    attempts: int
    sop_version: int
    idempotency_key: str | None


def task_public(task: Task, files: list[TaskFile]) -> TaskPublic:
    created = iso_z(task.created_at)
    updated = iso_z(task.updated_at)
    assert created is not None and updated is not None
    return TaskPublic(
        id=task.public_id,
        account_id=task.account_public_id,
        task_number=task.task_number,
        status=task.status,
        handler=task.handler,
        title=task.title,
        instructions=task.instructions,
        trajectory_id=task.trajectory_public_id,
        started_at=iso_z(task.started_at),
        completed_at=iso_z(task.completed_at),
        failed_at=iso_z(task.failed_at),
        notes=task.notes,
        created_at=created,
        updated_at=updated,
        type=task.type,
        priority=task.priority,
        batch_id=task.batch_id,
        payer=task.payer,
        result=pruned(task.result),
        fields=pruned(task.fields),
        problems=[_problem(p) for p in task.problems],
        files=[
            FilePublic(
                id=f.id,
                filename=f.filename,
                content_type=f.content_type,
                size=f.size,
                sha256=f.sha256,
                source=f.source.value if f.source else "upload",
                kind=f.kind.value if f.kind else None,
            )
            for f in files
        ],
        attempts=task.attempts,
        sop_version=task.sop_version,
        idempotency_key=task.idempotency_key,
    )


def _problem(entry: Any) -> ProblemPublic:
    if not isinstance(entry, dict):
        return ProblemPublic(field="", message=str(entry))
    return ProblemPublic(field=str(entry.get("field") or ""), message=str(entry.get("message") or ""))


def task_json(task: Task, files: list[TaskFile]) -> dict[str, Any]:
    """The exact JSON of GET /tasks/{id} (also the `data` of webhook envelopes)."""
    return task_public(task, files).model_dump(mode="json", by_alias=True)
