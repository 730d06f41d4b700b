"""A task's trajectories (one per attempt) and their artifacts: screenshots, a failing step's page HTML and
Playwright traces."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel

from runner.api.artifacts import artifact_response
from runner.api.deps import AccountDep, SystemDep
from runner.api.schemas import ERROR_RESPONSES, TaskIdPath
from runner.core.public import iso_z
from runner.core.trajectories import artifact_names

router = APIRouter(prefix="/tasks", tags=["trajectories"], responses=ERROR_RESPONSES)


class StepPublic(BaseModel):
    position: int
    step_id: str
    script: str
    outcome: str
    message: str | None
    url: str | None
    started_at: str | None
    ended_at: str | None
    screenshot_url: str | None
    screenshot_note: str | None = None  # why there is no screenshot (the budget is spent, a blank page)
    html_url: str | None = None  # the page's HTML where the step failed


class AttemptPublic(BaseModel):
    trajectory_id: int
    attempt: int
    worker: str | None
    outcome: str | None
    message: str | None
    started_at: str | None
    ended_at: str | None
    trace_url: str | None
    steps: list[StepPublic]


class TrajectoryPublic(BaseModel):
    task_id: int
    trajectory_id: int | None
    attempts: list[AttemptPublic]
    trace_hint: str


@router.get(
    "/{task_id}/trajectory", response_model=TrajectoryPublic, summary="A task's attempts, step by step"
)
def trajectory(
    task_id: TaskIdPath, request: Request, system: SystemDep, account: AccountDep
) -> TrajectoryPublic:
    task, attempts = system.trajectories.task_and_trajectories(account.id, task_id)
    names = {path: name for name, path in artifact_names(attempts).items()}

    def link(path: str | None) -> str | None:
        return str(request.url_for("artifact", task_id=task.public_id, name=names[path])) if path else None

    return TrajectoryPublic(
        task_id=task.public_id,
        trajectory_id=attempts[-1].trajectory.public_id if attempts else None,
        attempts=[
            AttemptPublic(
                trajectory_id=a.trajectory.public_id,
                attempt=a.trajectory.attempt,
                worker=a.trajectory.worker,
                outcome=a.trajectory.outcome,
                message=a.trajectory.message,
                started_at=iso_z(a.trajectory.started_at),
                ended_at=iso_z(a.trajectory.ended_at),
                trace_url=link(a.trajectory.trace_path),
                steps=[
                    StepPublic(
                        position=s.position,
                        step_id=s.step_id,
                        script=s.script,
                        outcome=s.outcome,
                        message=s.message,
                        url=s.url,
                        started_at=iso_z(s.started_at),
                        ended_at=iso_z(s.ended_at),
                        screenshot_url=link(s.screenshot_path),
                        screenshot_note=s.screenshot_note,
                        html_url=link(s.html_path),
                    )
                    for s in a.steps
                ],
            )
            for a in attempts
        ],
        trace_hint="Download a trace and open it with `playwright show-trace trace.zip`.",
    )


@router.get(
    "/{task_id}/artifacts/{name:path}", name="artifact", summary="A screenshot, page HTML or trace of a task"
)
def artifact(task_id: TaskIdPath, name: str, system: SystemDep, account: AccountDep) -> FileResponse:
    return artifact_response(system.trajectories.artifact(account.id, task_id, name))
