"""A task's trajectories as recorded (one per attempt, with its steps and artifacts), for its owning
account only. `runner.core.trajectory` records them while an attempt runs."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import sqlalchemy as sa
from sqlmodel import col, select

from runner.core import refs
from runner.core.artifacts import ArtifactStore
from runner.core.db import session_scope
from runner.core.errors import NotFound
from runner.core.tables import Task, Trajectory, TrajectoryStep

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecordedTrajectory:
    """One attempt's trajectory with its steps in order."""

    trajectory: Trajectory
    steps: list[TrajectoryStep]


class Trajectories:
    def __init__(self, engine: sa.Engine, artifacts: ArtifactStore) -> None:
        self._engine = engine
        self._artifacts = artifacts

    def of_task(self, account_id: str, task_id: str | int) -> list[RecordedTrajectory]:
        """The task's trajectories (one per attempt, the task by its integer id or UUID), oldest
        first, each with its steps in order."""
        return self.task_and_trajectories(account_id, task_id)[1]

    def task_and_trajectories(
        self, account_id: str, task_id: str | int
    ) -> tuple[Task, list[RecordedTrajectory]]:
        """The task (its integer id or UUID) and its trajectories, as `of_task` gives them."""
        with session_scope(self._engine, readonly=True) as session:
            task = session.exec(
                select(Task).where(
                    refs.matching(Task.public_id, Task.id, task_id), Task.account_id == account_id
                )
            ).first()
            if task is None:
                raise NotFound("No task with this id.", task_id=task_id)
            trajectories = session.exec(
                select(Trajectory).where(Trajectory.task_id == task.id).order_by(col(Trajectory.attempt))
            ).all()
            steps = session.exec(
                select(TrajectoryStep)
                .where(col(TrajectoryStep.trajectory_id).in_([t.id for t in trajectories]))
                .order_by(col(TrajectoryStep.position), col(TrajectoryStep.id))
            ).all()
        by_trajectory: dict[str, list[TrajectoryStep]] = {t.id: [] for t in trajectories}
        for step in steps:
            by_trajectory[step.trajectory_id].append(step)
        return task, [RecordedTrajectory(t, by_trajectory[t.id]) for t in trajectories]

    def artifact(self, account_id: str, task_id: str | int, name: str) -> Path:
        """A screenshot, page HTML or trace of the task by the name `artifact_names` gives it (or,
        for links from before, its recorded relative path); NotFound otherwise."""
        names = artifact_names(self.of_task(account_id, task_id))
        recorded = names.get(name) or (name if name in names.values() else None)
        if recorded is None:
            raise NotFound("No such artifact on this task.")
        try:
            path = self._artifacts.resolve(recorded)
        except ValueError:
            # The recorded file was replaced by a link out of the store: never follow it.
            log.warning("artifact path leaves the store", extra={"task_id": task_id})
            raise NotFound("No such artifact on this task.") from None
        if not path.is_file():
            raise NotFound("This artifact was pruned after the retention period.")
        return path


def artifact_names(attempts: list[RecordedTrajectory]) -> dict[str, str]:
    """The name each recorded artifact is served under (`<trajectory id>/<file>`, with the
    attempt's integer id), mapped to its recorded path under the store."""
    names: dict[str, str] = {}
    for attempt in attempts:
        for path in [
            attempt.trajectory.trace_path,
            *(s.screenshot_path for s in attempt.steps),
            *(s.html_path for s in attempt.steps),
        ]:
            if path:
                names[f"{attempt.trajectory.public_id}/{PurePosixPath(path).name}"] = path
    return names
