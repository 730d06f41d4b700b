"""The webhook outbox: one delivery row per event, one attempt row per POST."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from runner.core.tables.base import created_column, enum_column, id_field, json_column, ts_column
from runner.core.webhooks.events import DeliveryStatus, WebhookEvent


class WebhookDelivery(SQLModel, table=True):
    """Written in the same transaction as the status change it reports (DESIGN.md §6)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (sa.Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),)

    id: str = id_field()  # also the `webhook-id` header: stable across retries
    account_id: str = Field(foreign_key="accounts.id", index=True, max_length=36)
    task_id: str | None = Field(default=None, foreign_key="tasks.id", index=True, max_length=36)
    task_public_id: int | None = Field(default=None, sa_type=sa.BigInteger)  # the task's, as clients see it
    event: WebhookEvent = enum_column(WebhookEvent, length=64)
    payload: dict[str, Any] = json_column({})
    status: DeliveryStatus = enum_column(DeliveryStatus, length=32, default=DeliveryStatus.PENDING)
    attempts: int = Field(default=0)
    next_attempt_at: datetime | None = ts_column()
    lease_owner: str | None = Field(default=None, max_length=200)
    lease_expires_at: datetime | None = ts_column()
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = created_column()
    delivered_at: datetime | None = ts_column()


class WebhookAttempt(SQLModel, table=True):
    __tablename__ = "webhook_attempts"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: str = Field(foreign_key="webhook_deliveries.id", index=True, max_length=36)
    at: datetime = created_column()
    url: str = Field(max_length=2000)
    status_code: int | None = None
    latency_ms: int | None = None
    error: str | None = Field(default=None, sa_type=sa.Text)
    response_snippet: str | None = Field(default=None, max_length=500)
