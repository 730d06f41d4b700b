"""Tasks: the list, one task's page, its artifacts and documents, and the actions on it."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, Response

from runner.api.artifacts import artifact_response, document_response
from runner.api.console.auth import FormDep, OperatorDep, safe_next
from runner.api.console.inputs import input_form
from runner.api.console.render import redirect, render
from runner.api.deps import SystemDep
from runner.core.errors import Conflict, InvalidRequest, NotFound, UploadRejected
from runner.core.operators import Role
from runner.core.states import TaskStatus
from runner.core.tables import Task
from runner.core.tasks import TaskFilter
from runner.core.trajectories import artifact_names
from sops.types import TaskType

router = APIRouter()

PAGE_SIZE = 25
ACTIVE = frozenset({TaskStatus.PENDING, TaskStatus.DISPATCHING, TaskStatus.RUNNING})
ACTION_ERRORS = (Conflict, InvalidRequest, UploadRejected)
E = TypeVar("E", bound=StrEnum)
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


@router.get("/", include_in_schema=False)
def home(request: Request, _me: OperatorDep) -> Response:
    return redirect(request, "/tasks")


def _date(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidRequest(f"The {name} date must look like 2026-11-29.") from None


def _number(value: str | None) -> int | None:
    value = (value or "").strip().lstrip("#").strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 9:
        raise InvalidRequest("Search by task number: digits only, e.g. 12 or #12.")
    return int(value)


def _choice(kind: type[E], value: str | None, name: str) -> E | None:
    if not value:
        return None
    try:
        return kind(value)
    except ValueError:
        raise InvalidRequest(f"Unknown {name} {value!r}.") from None


@router.get("/tasks", name="tasks")
def task_list(
    request: Request,
    system: SystemDep,
    me: OperatorDep,
    status: Annotated[str | None, Query(max_length=32)] = None,
    type: Annotated[str | None, Query(max_length=64)] = None,
    payer: Annotated[str | None, Query(max_length=64)] = None,
    created_from: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    created_to: Annotated[str | None, Query(alias="to", max_length=10)] = None,
    number: Annotated[str | None, Query(max_length=12)] = None,
    batch: Annotated[str | None, Query(max_length=12)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    account = me.account
    problem = None
    try:
        start, end, wanted = _date(created_from, "from"), _date(created_to, "to"), _number(number)
        chosen_status = _choice(TaskStatus, status, "status")
        chosen_type = _choice(TaskType, type, "type")
    except InvalidRequest as exc:
        start = end = wanted = chosen_status = chosen_type = None
        problem = exc.message
    filters = TaskFilter(
        status=chosen_status,
        type=chosen_type,
        payer=payer or None,
        task_number=wanted,
        batch_id=int(batch) if batch and batch.isdigit() else None,
        created_after=datetime.combine(start, time.min, UTC) - timedelta(microseconds=1) if start else None,
        created_before=datetime.combine(end + timedelta(days=1), time.min, UTC) if end else None,
    )
    page = system.tasks.search(account.id, filters, limit=PAGE_SIZE, cursor=cursor or None)
    counts = system.tasks.counts(account.id)
    query = {
        "status": status or "",
        "type": type or "",
        "payer": payer or "",
        "from": created_from or "",
        "to": created_to or "",
        "number": number or "",
        "batch": batch if batch and batch.isdigit() else "",
    }
    return render(
        request,
        "tasks.html",
        {
            "page": page,
            "counts": counts,
            "total": sum(counts.values()),
            "query": query,
            "filtered": any(query.values()),
            "cursor": cursor,
            "payers": system.tasks.payers(account.id),
            "types": list(TaskType),
            "problem": problem,
            "live": any(t.status in ACTIVE for t in page.tasks) or any(counts[s] for s in ACTIVE),
        },
    )


@router.get("/tasks/number/{number}", name="task_by_number")
def task_by_number(request: Request, system: SystemDep, me: OperatorDep, number: int) -> Response:
    page = system.tasks.search(me.account.id, TaskFilter(task_number=number), limit=1, cursor=None)
    if not page.tasks:
        raise NotFound(f"There is no task #{number} in this account.")
    return redirect(request, f"/tasks/{page.tasks[0].public_id}")


def task_context(system: SystemDep, me: OperatorDep, task_id: str) -> dict[str, Any]:
    """Everything the task page (and the queues' cards) show about one task."""
    account = me.account
    task, files = system.tasks.get(account.id, task_id)
    trajectories = system.trajectories.of_task(account.id, task_id)
    last_shot = next(
        (s for t in reversed(trajectories) for s in reversed(t.steps) if s.screenshot_path),
        None,
    )
    return {
        "task": task,
        "status": task.status,
        "files": files,
        "trajectories": trajectories,
        # Recorded path -> the name its URL carries (the attempt's integer id and the file).
        "artifact_names": {path: name for name, path in artifact_names(trajectories).items()},
        "gate_step": last_shot,
        "instructions": _SENTENCE.split(task.instructions.removeprefix("SOP:").strip()),
        "form": input_form(task),
    }


def _related(system: SystemDep, account_id: str, task_id: object) -> Task | None:
    """The account's task named by `task_id` (an id from a row or a result), or None."""
    if not isinstance(task_id, str | int) or isinstance(task_id, bool):
        return None
    try:
        return system.tasks.get(account_id, task_id)[0]
    except NotFound:
        return None


@router.get("/tasks/{task_id}", name="task")
def task_page(request: Request, system: SystemDep, me: OperatorDep, task_id: str) -> Response:
    context = task_context(system, me, task_id)
    task = context["task"]
    result = task.result if isinstance(task.result, dict) else {}
    return render(
        request,
        "task.html",
        {
            **context,
            # A follow-up's parent (the submission it checks on), a submission's follow-up.
            "parent": _related(system, me.account.id, task.parent_task_id),
            "follow_up": _related(system, me.account.id, result.get("follow_up_task_id")),
            "events": system.tasks.events(me.account.id, task_id),
            "deliveries": system.webhooks.deliveries(me.account.id, task_id=task.id, limit=50),
            "live": context["status"] in ACTIVE,
            "can_act": me.role.allows(Role.REVIEWER),
        },
    )


@router.get("/tasks/{task_id}/artifacts/{name:path}", name="artifact")
def artifact(system: SystemDep, me: OperatorDep, task_id: str, name: str) -> FileResponse:
    return artifact_response(system.trajectories.artifact(me.account.id, task_id, name))


@router.get("/tasks/{task_id}/files/{file_id}", name="task_file")
def task_file(system: SystemDep, me: OperatorDep, task_id: str, file_id: str) -> Response:
    row, content = system.tasks.file(me.account.id, task_id, file_id)
    return document_response(row, content)


# -- actions ----------------------------------------------------------------------------------


@router.post("/tasks/{task_id}/cancel")
def cancel(request: Request, system: SystemDep, me: OperatorDep, form: FormDep, task_id: str) -> Response:
    me.require(Role.REVIEWER, "cancel tasks")
    back = safe_next(form.values.get("next"), f"/tasks/{task_id}")
    try:
        task = system.tasks.cancel(me.account.id, task_id, reason=form.text("reason") or None, actor=me.actor)
    except ACTION_ERRORS as exc:
        return redirect(request, back, error=exc.message)
    return redirect(request, back, ok=f"Task #{task.task_number} cancelled.")


@router.post("/tasks/{task_id}/retry")
def retry(request: Request, system: SystemDep, me: OperatorDep, form: FormDep, task_id: str) -> Response:
    me.require(Role.REVIEWER, "retry tasks")
    try:
        task = system.tasks.retry(me.account, task_id, actor=me.actor)
    except ACTION_ERRORS as exc:
        return redirect(request, safe_next(form.values.get("next"), f"/tasks/{task_id}"), error=exc.message)
    return redirect(request, f"/tasks/{task.public_id}", ok=f"Retried as a new task, #{task.task_number}.")


@router.post("/tasks/{task_id}/deliveries/{delivery_id}/redeliver")
def redeliver(
    request: Request, system: SystemDep, me: OperatorDep, form: FormDep, task_id: str, delivery_id: str
) -> Response:
    me.require(Role.REVIEWER, "redeliver webhooks")
    back = safe_next(form.values.get("next"), f"/tasks/{task_id}")
    task, _files = system.tasks.get(me.account.id, task_id)
    delivery, _attempts = system.webhooks.get(me.account.id, delivery_id)
    if delivery.task_id != task.id:
        raise NotFound("No such delivery on this task.")
    try:
        system.webhooks.redeliver(me.account.id, delivery_id)
    except ACTION_ERRORS as exc:
        return redirect(request, back, error=exc.message)
    message = f"Webhook {delivery.event} queued for redelivery."
    system.tasks.remark(me.account.id, task_id, actor=me.actor, kind="redeliver", message=message)
    return redirect(request, back, ok="Webhook queued for redelivery (same webhook-id).")
