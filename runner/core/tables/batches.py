"""Batches: one row per import (a CSV file, a JSON list, a schedule's firing); its tasks point here."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from runner.core.tables.base import created_column, json_column, ts_column


class Batch(SQLModel, table=True):
    __tablename__ = "batches"
    __table_args__ = (
        sa.UniqueConstraint("account_id", "idempotency_key", name="uq_batches_account_idempotency"),
        sa.Index("ix_batches_account_created", "account_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)  # public, like the other public ids
    account_id: str = Field(foreign_key="accounts.id", max_length=36)
    type: str | None = Field(default=None, max_length=64)  # None: the rows name their own types
    priority: str = Field(default="batch", max_length=16)
    source: str = Field(max_length=300)  # the file's name, "json", or the schedule's source
    schedule_id: int | None = Field(default=None, index=True)
    idempotency_key: str | None = Field(default=None, max_length=255)
    request_hash: str | None = Field(default=None, max_length=64)
    rows: int = Field(default=0)  # data rows read (the header not counted)
    created: int = Field(default=0)  # tasks created (pending or waiting_for_input)
    waiting: int = Field(default=0)  # of those, waiting_for_input at creation
    # [{row, field, reason}] for every refused row: nothing was created for them.
    refused: list[dict[str, object]] = json_column([])
    finished_at: datetime | None = ts_column()  # every task final: the batch_finished webhook
    created_at: datetime = created_column()


class Schedule(SQLModel, table=True):
    """A cron schedule that creates a batch from a CSV (a path or an HTTPS URL) on each firing.

    Leased like a task: the process that moves `next_fire_at` forward under the row lock fires it,
    so one due time fires once however many processes look.
    """

    __tablename__ = "schedules"

    id: int | None = Field(default=None, primary_key=True)
    account_id: str = Field(foreign_key="accounts.id", index=True, max_length=36)
    cron: str = Field(max_length=200)
    timezone: str = Field(max_length=64)
    type: str = Field(max_length=64)
    source: str = Field(max_length=2000)  # a path or an https URL; may hold {date} / {date+1}
    priority: str = Field(default="batch", max_length=16)
    next_fire_at: datetime | None = ts_column(index=True)  # None while paused
    paused_at: datetime | None = ts_column()
    lease_owner: str | None = Field(default=None, max_length=200)  # the process firing it now
    lease_expires_at: datetime | None = ts_column()
    last_fired_at: datetime | None = ts_column()
    last_batch_id: int | None = Field(default=None)
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    last_error_at: datetime | None = ts_column()
    created_at: datetime = created_column()
    updated_at: datetime = created_column()
