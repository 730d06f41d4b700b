"""The two queues a person works through: tasks waiting for input, and tasks waiting for review."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from runner.api.console.auth import FormDep, OperatorDep, safe_next
from runner.api.console.inputs import compose_data
from runner.api.console.render import redirect, render
from runner.api.console.tasks import ACTION_ERRORS, task_context
from runner.api.deps import SystemDep
from runner.core.operators import Role
from runner.core.states import TaskStatus
from runner.core.tasks import TaskFilter

router = APIRouter()

QUEUE_SIZE = 20


def _queue(
    request: Request, system: SystemDep, me: OperatorDep, status: TaskStatus, cursor: str | None
) -> Response:
    page = system.tasks.search(
        me.account.id, TaskFilter(status=status), limit=QUEUE_SIZE, cursor=cursor or None
    )
    cards: list[dict[str, Any]] = [task_context(system, me, task.id) for task in page.tasks]
    template = "input_queue.html" if status is TaskStatus.WAITING_FOR_INPUT else "review_queue.html"
    return render(
        request,
        template,
        {
            "cards": cards,
            "next_cursor": page.next_cursor,
            "cursor": cursor,
            "count": system.tasks.counts(me.account.id)[status],
            "can_act": me.role.allows(Role.REVIEWER),
        },
    )


@router.get("/input", name="input_queue")
def input_queue(
    request: Request,
    system: SystemDep,
    me: OperatorDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    return _queue(request, system, me, TaskStatus.WAITING_FOR_INPUT, cursor)


@router.get("/review", name="review_queue")
def review_queue(
    request: Request,
    system: SystemDep,
    me: OperatorDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    return _queue(request, system, me, TaskStatus.PENDING_REVIEW, cursor)


@router.post("/tasks/{task_id}/input")
def supply_input(
    request: Request, system: SystemDep, me: OperatorDep, form: FormDep, task_id: str
) -> Response:
    me.require(Role.REVIEWER, "answer tasks")
    back = safe_next(form.values.get("next"), f"/tasks/{task_id}")
    try:
        task = system.tasks.supply_input(
            me.account, task_id, data=compose_data(form) or None, uploads=form.uploads, actor=me.actor
        )
    except ACTION_ERRORS as exc:
        return redirect(request, back, error=exc.message)
    if task.status is TaskStatus.WAITING_FOR_INPUT:
        return redirect(request, back, error=f"Task #{task.task_number} still needs input: {task.notes}")
    return redirect(request, back, ok=f"Task #{task.task_number} has what it needs and is back in the queue.")


@router.post("/tasks/{task_id}/review")
def review(request: Request, system: SystemDep, me: OperatorDep, form: FormDep, task_id: str) -> Response:
    me.require(Role.REVIEWER, "review tasks")
    back = safe_next(form.values.get("next"), f"/tasks/{task_id}")
    decision = form.text("decision")
    if decision not in ("approve", "reject"):
        return redirect(request, back, error="Choose Approve or Reject.")
    try:
        task = system.tasks.review(
            me.account.id,
            task_id,
            approve=decision == "approve",
            notes=form.text("notes") or None,
            actor=me.actor,
        )
    except ACTION_ERRORS as exc:
        return redirect(request, back, error=exc.message)
    verdict = "approved: it continues" if decision == "approve" else "rejected: it is now failed"
    return redirect(request, back, ok=f"Task #{task.task_number} {verdict}.")
