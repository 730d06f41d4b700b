"""New task: type, data (with that type's field hints) and documents, for ad-hoc work."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from runner.api.console.auth import FormDep, OperatorDep
from runner.api.console.render import redirect, render
from runner.api.console.tasks import ACTION_ERRORS
from runner.api.deps import SystemDep
from runner.core.operators import Role
from runner.core.states import TaskStatus
from sops.inputs import TYPE_RULES, field_hints
from sops.types import TaskType

router = APIRouter()


def _page(
    request: Request, *, chosen: str, data: str = "", error: str | None = None, status: int = 200
) -> Response:
    return render(
        request,
        "new_task.html",
        {
            "types": list(TaskType),
            "hints": {t.value: field_hints(t) for t in TaskType},
            "rules": {t.value: rule for t, rule in TYPE_RULES.items()},
            "chosen": chosen,
            "data": data,
            "error": error,
        },
        status=status,
    )


@router.get("/new", name="new_task")
def new_task_form(
    request: Request, me: OperatorDep, type: Annotated[TaskType | None, Query()] = None
) -> Response:
    me.require(Role.REVIEWER, "create tasks")
    return _page(request, chosen=(type or TaskType.CHECK_ELIGIBILITY).value)


@router.post("/new")
def create_task(request: Request, system: SystemDep, me: OperatorDep, form: FormDep) -> Response:
    me.require(Role.REVIEWER, "create tasks")
    chosen, data = form.text("type"), form.values.get("data", "")
    try:
        task = system.tasks.create(
            me.account, type=chosen, data=data or None, uploads=form.uploads, actor=me.actor
        )
    except ACTION_ERRORS as exc:
        return _page(request, chosen=chosen, data=data, error=exc.message, status=422)
    then = "it needs input first" if task.status is TaskStatus.WAITING_FOR_INPUT else "queued"
    return redirect(request, f"/tasks/{task.public_id}", ok=f"Task #{task.task_number} created; {then}.")
