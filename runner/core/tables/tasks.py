"""Tasks, their files, their event timeline and their trajectories (one per attempt)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from runner.core.states import FileSource, TaskStatus
from runner.core.tables.base import (
    created_column,
    enum_column,
    id_field,
    json_column,
    nullable_json_column,
    public_id_field,
    ts_column,
)
from sops.types import DocumentKind, TaskType


class Task(SQLModel, table=True):
    __tablename__ = "tasks"
    __table_args__ = (
        sa.UniqueConstraint("account_id", "task_number", name="uq_tasks_account_number"),
        sa.UniqueConstraint("account_id", "idempotency_key", name="uq_tasks_account_idempotency"),
        sa.Index("ix_tasks_account_created", "account_id", "created_at", "id"),
        sa.Index("ix_tasks_claimable", "status", "run_after"),
    )

    id: str = id_field()
    public_id: int = public_id_field()  # the `id` clients see
    account_id: str = Field(foreign_key="accounts.id", max_length=36)
    account_public_id: int = Field(
        default=None, sa_type=sa.BigInteger, nullable=False
    )  # the account's, as `accountId`
    task_number: int
    type: TaskType = enum_column(TaskType, length=64)
    status: TaskStatus = enum_column(TaskStatus, length=32)
    # states.Priority, the queue's lane: due interactive tasks are claimed before due batch tasks.
    priority: str = Field(
        default="interactive", max_length=16, sa_column_kwargs={"server_default": "interactive"}
    )
    batch_id: int | None = Field(default=None, foreign_key="batches.id", index=True)
    batch_row: int | None = Field(default=None)  # the row of the batch's file it came from
    handler: str = Field(max_length=100)
    title: str = Field(max_length=300)
    instructions: str = Field(sa_type=sa.Text)
    data: str | None = Field(default=None, sa_type=sa.Text)  # raw text as received
    raw_inputs: dict[str, Any] = json_column({})  # parsed, not yet validated (merged on input)
    fields: dict[str, Any] = json_column({})  # typed and validated (or raw where invalid)
    problems: list[dict[str, str]] = json_column([])  # [{field, message}] while waiting for input
    result: dict[str, Any] | None = nullable_json_column()
    notes: str | None = Field(default=None, sa_type=sa.Text)
    payer: str | None = Field(default=None, max_length=64)
    sop_version: int
    sop_source: str = Field(default="builtin", max_length=32)  # "builtin" or "account"
    # The SOP the task runs, pinned when it was created (JSON; runner.core.sopbook.pin). NULL on
    # tasks created before pinning: they run the account's current SOP.
    pinned_sop: str | None = Field(default=None, sa_type=sa.Text)
    step_script_version: str | None = Field(default=None, max_length=64)
    attempts: int = Field(default=0)
    idempotency_key: str | None = Field(default=None, max_length=255)
    request_hash: str | None = Field(default=None, max_length=64)
    run_after: datetime | None = ts_column()
    lease_owner: str | None = Field(default=None, max_length=200)
    lease_expires_at: datetime | None = ts_column()
    lease_token: int = Field(default=0)  # fencing token: bumped on every claim
    # The portal (breaker key) this pending task waits for; made due when the portal answers again.
    held_for_portal: str | None = Field(default=None, max_length=300, index=True)
    submit_attempted_at: datetime | None = ts_column()  # the exactly-once mark (DESIGN.md §5)
    review_step: str | None = Field(default=None, max_length=100)  # the gate waiting for a reviewer
    approved_gates: list[str] = json_column([])  # review gates a reviewer has approved
    trajectory_id: str | None = Field(default=None, max_length=36)
    trajectory_public_id: int | None = Field(
        default=None, sa_type=sa.BigInteger
    )  # the same, as clients see it
    started_at: datetime | None = ts_column()
    completed_at: datetime | None = ts_column()
    failed_at: datetime | None = ts_column()
    created_at: datetime = created_column()
    updated_at: datetime = created_column()


class TaskFile(SQLModel, table=True):
    """A task's document: one the client uploaded, or one kept from the portal (its `kind` says
    what: a confirmation page, a letter, an EOB). The bytes live in the file store by content hash."""

    __tablename__ = "task_files"

    id: str = id_field()
    task_id: str = Field(foreign_key="tasks.id", index=True, max_length=36)
    account_id: str = Field(foreign_key="accounts.id", max_length=36)
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    size: int
    sha256: str = Field(max_length=64)
    # Rows from before portal documents are uploads (the server default).
    source: FileSource = enum_column(
        FileSource, length=16, default=FileSource.UPLOAD, sa_column_kwargs={"server_default": "upload"}
    )
    kind: DocumentKind | None = enum_column(DocumentKind, length=32, nullable=True, default=None)
    created_at: datetime = created_column()


class TaskEvent(SQLModel, table=True):
    """One line of a task's timeline: who did what, when, and the status change it caused."""

    __tablename__ = "task_events"

    id: int | None = Field(default=None, primary_key=True)
    task_id: str = Field(foreign_key="tasks.id", index=True, max_length=36)
    account_id: str = Field(foreign_key="accounts.id", max_length=36)
    at: datetime = created_column()
    actor: str = Field(max_length=200)
    kind: str = Field(max_length=64)
    from_status: TaskStatus | None = enum_column(TaskStatus, length=32, nullable=True, default=None)
    to_status: TaskStatus | None = enum_column(TaskStatus, length=32, nullable=True, default=None)
    message: str | None = Field(default=None, sa_type=sa.Text)


class Trajectory(SQLModel, table=True):
    """One attempt at a task: its steps, outcome and artifacts."""

    __tablename__ = "trajectories"

    id: str = id_field()
    public_id: int = public_id_field()  # the `trajectory_id` clients see
    task_id: str = Field(foreign_key="tasks.id", index=True, max_length=36)
    account_id: str = Field(foreign_key="accounts.id", max_length=36)
    attempt: int
    worker: str | None = Field(default=None, max_length=200)
    outcome: TaskStatus | None = enum_column(TaskStatus, length=64, nullable=True, default=None)
    message: str | None = Field(default=None, sa_type=sa.Text)
    trace_path: str | None = Field(default=None, max_length=1000)
    started_at: datetime = created_column()
    ended_at: datetime | None = ts_column()


class TrajectoryStep(SQLModel, table=True):
    __tablename__ = "trajectory_steps"

    id: int | None = Field(default=None, primary_key=True)
    trajectory_id: str = Field(foreign_key="trajectories.id", index=True, max_length=36)
    position: int
    step_id: str = Field(max_length=100)
    script: str = Field(max_length=100)
    url: str | None = Field(default=None, max_length=2000)
    outcome: str = Field(max_length=64)
    message: str | None = Field(default=None, sa_type=sa.Text)
    screenshot_path: str | None = Field(default=None, max_length=1000)
    # Why the step has no screenshot although screenshots are on (the attempt's budget is spent).
    screenshot_note: str | None = Field(default=None, max_length=500)
    # The page's HTML (every frame) where the step failed: debugging an attempt without a trace.
    html_path: str | None = Field(default=None, max_length=1000)
    started_at: datetime = created_column()
    ended_at: datetime | None = ts_column()
