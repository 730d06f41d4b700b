"""Records an attempt as it runs: a row per step with timing, URL, outcome and a screenshot.

It is the engine's `Hooks` for the worker; it also writes the exactly-once mark before the
irreversible step (fenced by the lease: a worker that lost its lease cannot set it).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from handlers.engine import RECONCILE_GATE
from runner.core.db import session_scope
from runner.core.queue import Lease, Queue
from runner.core.tables import TaskEvent, TrajectoryStep, utcnow
from sops.schema import Step

if TYPE_CHECKING:
    from playwright.async_api import Page

log = logging.getLogger(__name__)


class TrajectoryRecorder:
    def __init__(
        self,
        engine: sa.Engine,
        queue: Queue,
        lease: Lease,
        *,
        trajectory_id: str,
        account_id: str,
        folder: Path,
        relative: str,
        page: Page | None,
        screenshots: bool = True,
    ) -> None:
        self._engine = engine
        self._queue = queue
        self._lease = lease
        self._trajectory_id = trajectory_id
        self._account_id = account_id
        self._folder = folder
        self._relative = relative
        self._page = page
        self._screenshots = screenshots
        self._started: dict[int, datetime] = {}
        self.last_screenshot: str | None = None

    async def step_started(self, position: int, step: Step) -> None:
        self._started[position] = utcnow()
        log.info("step started", extra={"task_id": self._lease.task_id, "step": step.id, "script": step.do})

    async def step_finished(self, position: int, step: Step, *, outcome: str, message: str | None) -> None:
        screenshot = await self._screenshot(position, step)
        url = self._page.url if self._page is not None else None
        row = TrajectoryStep(
            trajectory_id=self._trajectory_id,
            position=position,
            step_id=step.id,
            script=step.do,
            url=url,
            outcome=outcome,
            message=message,
            screenshot_path=screenshot,
            started_at=self._started.get(position, utcnow()),
            ended_at=utcnow(),
        )
        await asyncio.to_thread(self._insert, row)
        log.info(
            "step finished",
            extra={"task_id": self._lease.task_id, "step": step.id, "script": step.do, "outcome": outcome},
        )

    async def before_irreversible(self, step: Step) -> None:
        await asyncio.to_thread(self._mark_submit, step)

    def _insert(self, row: TrajectoryStep) -> None:
        with session_scope(self._engine) as session:
            session.add(row)

    def _mark_submit(self, step: Step) -> None:
        # Committed before the click: after a crash the next attempt sees it and reconciles.
        with session_scope(self._engine) as session:
            task = self._queue.hold(session, self._lease)
            task.submit_attempted_at = utcnow()
            # A reviewer's permission to submit again after an unresolved reconciliation is
            # good for one submission only.
            task.approved_gates = [g for g in task.approved_gates if g != RECONCILE_GATE]
            session.add(task)
            session.add(
                TaskEvent(
                    task_id=task.id,
                    account_id=task.account_id,
                    actor=f"worker:{self._lease.owner}",
                    kind="submit_attempted",
                    message=f"About to run the irreversible step {step.id!r}.",
                )
            )

    async def _screenshot(self, position: int, step: Step) -> str | None:
        if self._page is None or not self._screenshots or self._page.is_closed():
            return None
        name = f"{position:02d}-{step.id}.png"
        try:
            await self._page.screenshot(path=str(self._folder / name), full_page=True, timeout=10_000)
        except Exception:  # a screenshot must never fail the task
            log.warning("screenshot failed", extra={"task_id": self._lease.task_id, "step": step.id})
            return None
        self.last_screenshot = f"{self._relative}/{name}"
        return self.last_screenshot
