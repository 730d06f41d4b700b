"""A task's trajectories as recorded (one per attempt, with its steps and artifacts), for its owning
account only. `runner.core.trajectory` records them while an attempt runs."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import col, select

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

    def of_task(self, account_id: str, task_id: str) -> list[RecordedTrajectory]:
        """The task's trajectories (one per attempt), oldest first, each with its steps in order."""
        with session_scope(self._engine, readonly=True) as session:
            task = session.exec(select(Task).where(Task.id == task_id, Task.account_id == account_id)).first()
            if task is None:
                raise NotFound("No task with this id.", task_id=task_id)
            trajectories = session.exec(
                select(Trajectory).where(Trajectory.task_id == task_id).order_by(col(Trajectory.attempt))
            ).all()
            steps = session.exec(
                select(TrajectoryStep)
                .where(col(TrajectoryStep.trajectory_id).in_([t.id for t in trajectories]))
                .order_by(col(TrajectoryStep.position), col(TrajectoryStep.id))
            ).all()
        by_trajectory: dict[str, list[TrajectoryStep]] = {t.id: [] for t in trajectories}
        for step in steps:
            by_trajectory[step.trajectory_id].append(step)
        return [RecordedTrajectory(t, by_trajectory[t.id]) for t in trajectories]

    def artifact(self, account_id: str, task_id: str, name: str) -> Path:
        """A screenshot, page HTML or trace of the task by its recorded relative path; NotFound
        otherwise."""
        recorded = {
            path
            for recorded in self.of_task(account_id, task_id)
            for path in [
                recorded.trajectory.trace_path,
                *(s.screenshot_path for s in recorded.steps),
                *(s.html_path for s in recorded.steps),
            ]
            if path
        }
        if name not in recorded:
            raise NotFound("No such artifact on this task.")
        try:
            path = self._artifacts.resolve(name)
        except ValueError:
            # The recorded file was replaced by a link out of the store: never follow it.
            log.warning("artifact path leaves the store", extra={"task_id": task_id})
            raise NotFound("No such artifact on this task.") from None
        if not path.is_file():
            raise NotFound("This artifact was pruned after the retention period.")
        return path
