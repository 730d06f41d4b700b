"""A task's attempts as recorded (trajectories, steps, artifacts), for its owning account only."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import col, select

from runner.core import refs
from runner.core.artifacts import ArtifactStore
from runner.core.db import session_scope
from runner.core.errors import NotFound
from runner.core.tables import Task, Trajectory, TrajectoryStep

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attempt:
    trajectory: Trajectory
    steps: list[TrajectoryStep]


class History:
    def __init__(self, engine: sa.Engine, artifacts: ArtifactStore) -> None:
        self._engine = engine
        self._artifacts = artifacts

    def attempts(self, account_id: str, task_id: str | int) -> list[Attempt]:
        """Every attempt of the task (its integer id or UUID), oldest first, each with its steps in
        order."""
        return self.of_task(account_id, task_id)[1]

    def of_task(self, account_id: str, task_id: str | int) -> tuple[Task, list[Attempt]]:
        """The task (its integer id or UUID) and its attempts, as `attempts` gives them."""
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
        return task, [Attempt(t, by_trajectory[t.id]) for t in trajectories]

    def artifact(self, account_id: str, task_id: str | int, name: str) -> Path:
        """A screenshot, page HTML or trace of the task by its recorded relative path; NotFound
        otherwise."""
        recorded = {
            path
            for attempt in self.attempts(account_id, task_id)
            for path in [
                attempt.trajectory.trace_path,
                *(s.screenshot_path for s in attempt.steps),
                *(s.html_path for s in attempt.steps),
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
