"""An API caller: an account id and its key (tests build them through the core, not HTTP)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select

from runner.core.db import session_scope
from runner.core.system import System
from runner.core.tables import Task


@dataclass(frozen=True)
class Caller:
    account_id: str  # the row's UUID, for calls into the core
    api_key: str
    public_id: int = 0  # the `accountId` the API shows

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


def task_row(system: System, task_id: int) -> Task:
    """The stored row of the task the API calls `task_id`."""
    with session_scope(system.engine, readonly=True) as session:
        task = session.exec(select(Task).where(Task.public_id == task_id)).first()
    assert task is not None, task_id
    return task
