"""A batch as clients see it (counts by status, progress), and the moment it finishes.

`on_task_final` runs inside the transaction that makes one of the batch's tasks final (from
`transitions.move`). It locks the batch row, so of two workers finishing a batch's last two tasks
at once the second waits for the first to commit and then sees both final: the `batch_finished`
delivery is written exactly once, in the same transaction as the last final state.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from runner.core.public import iso_z
from runner.core.states import FINAL_STATUSES, TaskStatus
from runner.core.tables import Account, Batch, Task
from runner.core.webhooks import outbox
from runner.core.webhooks.events import WebhookEvent

_FINAL = [status.value for status in FINAL_STATUSES]


class RefusalPublic(BaseModel):
    row: int
    field: str
    reason: str


class BatchPublic(BaseModel):
    id: int
    account_id: int = Field(
        serialization_alias="accountId", description="The account's id, as tasks show it."
    )
    type: str | None
    priority: str
    source: str
    schedule_id: int | None
    rows: int = Field(description="Data rows read (a CSV's header row not counted).")
    created: int = Field(description="Tasks created: pending, or waiting_for_input naming what is missing.")
    waiting_for_input: int = Field(description="Of those, how many were waiting for input at creation.")
    refused: list[RefusalPublic] = Field(description="Rows that created nothing, with the field and why.")
    counts: dict[str, int] = Field(description="The batch's tasks now, by status (every status).")
    finished: int = Field(description="Tasks in a final state.")
    progress: float = Field(description="finished / created (1.0 when the batch created nothing).")
    created_at: str = Field(serialization_alias="createdAt")
    finished_at: str | None = Field(serialization_alias="finishedAt")


def counts(session: Session, batch_id: int) -> dict[TaskStatus, int]:
    statement = (
        select(Task.status, sa.func.count()).where(col(Task.batch_id) == batch_id).group_by(col(Task.status))
    )
    found = {str(status): int(n) for status, n in session.exec(statement).all()}
    return {status: found.get(status.value, 0) for status in TaskStatus}


def batch_public(batch: Batch, by_status: dict[TaskStatus, int], account_public_id: int) -> BatchPublic:
    """The batch as clients see it; `account_public_id` is its account's integer id (the row
    keeps the account's UUID, which stays inside, as for tasks)."""
    assert batch.id is not None
    finished = sum(n for status, n in by_status.items() if status.is_final)
    created_at = iso_z(batch.created_at)
    assert created_at is not None
    return BatchPublic(
        id=batch.id,
        account_id=account_public_id,
        type=batch.type,
        priority=batch.priority,
        source=batch.source,
        schedule_id=batch.schedule_id,
        rows=batch.rows,
        created=batch.created,
        waiting_for_input=batch.waiting,
        refused=[RefusalPublic.model_validate(entry) for entry in batch.refused],
        counts={status.value: n for status, n in by_status.items()},
        finished=finished,
        progress=round(finished / batch.created, 4) if batch.created else 1.0,
        created_at=created_at,
        finished_at=iso_z(batch.finished_at),
    )


def batch_json(batch: Batch, by_status: dict[TaskStatus, int], account_public_id: int) -> dict[str, Any]:
    """The exact JSON of GET /batches/{id} (also the `data` of the batch_finished event)."""
    return batch_public(batch, by_status, account_public_id).model_dump(mode="json", by_alias=True)


def on_task_final(session: Session, task: Task, now: datetime) -> None:
    """If `task` was its batch's last open task, mark the batch finished and write its event."""
    if task.batch_id is None:
        return
    batch = session.exec(select(Batch).where(col(Batch.id) == task.batch_id).with_for_update()).first()
    if batch is None or batch.finished_at is not None:
        return
    still_open = session.exec(
        select(sa.func.count())
        .select_from(Task)
        .where(col(Task.batch_id) == batch.id)
        .where(col(Task.status).not_in(_FINAL))
    ).one()
    if still_open:
        return
    finish(session, batch, now)


def finish(session: Session, batch: Batch, now: datetime) -> None:
    """Mark the batch finished and write its `batch_finished` delivery, in the caller's transaction."""
    assert batch.id is not None
    batch.finished_at = now
    session.add(batch)
    session.flush()
    account = session.get(Account, batch.account_id)
    assert account is not None
    data = batch_json(batch, counts(session, batch.id), account.public_id)
    outbox.account_event(session, account, WebhookEvent.BATCH_FINISHED, data, now)
