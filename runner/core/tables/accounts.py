"""Accounts, their API keys, SOP overrides and portal credentials."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from runner.core.tables.base import (
    created_column,
    enum_column,
    id_field,
    json_column,
    public_id_field,
    ts_column,
)
from sops.types import TaskType


class Account(SQLModel, table=True):
    __tablename__ = "accounts"

    id: str = id_field()
    public_id: int = public_id_field()  # the `accountId` clients see
    name: str = Field(max_length=200, unique=True, index=True)
    webhook_url: str | None = Field(default=None, max_length=2000)
    # `whsec_` secrets, encrypted at rest (AEAD bound to the account id).
    webhook_secret_enc: str = Field(sa_type=sa.Text)
    previous_webhook_secret_enc: str | None = Field(default=None, sa_type=sa.Text)
    previous_webhook_secret_expires_at: datetime | None = ts_column()
    webhook_events: list[str] = json_column([])  # extra events beyond task_finished
    webhook_disabled_at: datetime | None = ts_column()  # set when the endpoint answers 410
    defaults: dict[str, Any] = json_column({})
    # Per-account task_number sequence; bumped in the transaction that inserts the task.
    task_counter: int = Field(default=0, nullable=False)
    created_at: datetime = created_column()
    updated_at: datetime = created_column()


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_keys"

    id: str = Field(primary_key=True, max_length=32)  # the public part of the key, e.g. "k7f3a9c2"
    account_id: str = Field(foreign_key="accounts.id", index=True, max_length=36)
    secret_hash: str = Field(max_length=128)
    label: str | None = Field(default=None, max_length=200)
    created_at: datetime = created_column()
    last_used_at: datetime | None = ts_column()
    revoked_at: datetime | None = ts_column()


class SopOverride(SQLModel, table=True):
    """An account's own SOP for one task type (YAML text, validated when installed)."""

    __tablename__ = "sop_overrides"
    __table_args__ = (sa.UniqueConstraint("account_id", "type", name="uq_sop_overrides_account_type"),)

    id: str = id_field()
    account_id: str = Field(foreign_key="accounts.id", index=True, max_length=36)
    type: TaskType = enum_column(TaskType, length=64)
    version: int
    source: str = Field(sa_type=sa.Text)
    created_at: datetime = created_column()


class PortalCredential(SQLModel, table=True):
    """A login on one payer portal. Its secrets are AEAD-encrypted; its saved portal sessions, one
    per session slot, are `SavedSession` rows."""

    __tablename__ = "portal_credentials"
    __table_args__ = (
        sa.UniqueConstraint("account_id", "payer", "username", name="uq_portal_credentials_login"),
    )

    id: str = id_field()
    account_id: str = Field(foreign_key="accounts.id", index=True, max_length=36)
    payer: str = Field(max_length=64, index=True)
    # The portal as a person knows it ("Beacon Exchange"), shown in SOP instructions.
    name: str = Field(default="", max_length=200)
    url: str = Field(max_length=2000)
    # Payer names this login also submits to (a multi-payer exchange lists the insurers here).
    serves: list[str] = json_column([])
    username: str = Field(max_length=200)
    password_enc: str = Field(sa_type=sa.Text)
    totp_secret_enc: str | None = Field(default=None, sa_type=sa.Text)
    max_sessions: int = Field(default=2)
    rate_per_minute: int = Field(default=30)
    # Seconds this portal may take to list a new submission in its search (a reconciliation waits
    # that long before it believes "not found"); None: the fleet's SOPWRIGHT_LISTING_DELAY.
    listing_delay: int | None = Field(default=None)
    consecutive_login_failures: int = Field(default=0)
    disabled_at: datetime | None = ts_column()
    disabled_reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = created_column()
    updated_at: datetime = created_column()


class SavedSession(SQLModel, table=True):
    """The last good portal session of one session slot of a login (Playwright storage state
    JSON, AEAD-encrypted and bound to the login and the slot). A hold on slot N (runner.core.limits)
    restores slot N's session and saves it after: attempts at once never share a portal session,
    and none of them signs in while its slot's session still holds."""

    __tablename__ = "saved_sessions"

    credential_id: str = Field(foreign_key="portal_credentials.id", primary_key=True, max_length=36)
    slot: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    storage_state_enc: str = Field(sa_type=sa.Text)
    saved_at: datetime = created_column()


class PortalSession(SQLModel, table=True):
    """One attempt's hold on a portal login: the fleet-wide session and rate limits count these.

    A hold is live while it has not ended and its task still carries the same lease (token and
    unexpired lease), so a worker that died frees its hold when its lease runs out. Rows are
    kept for a minute after they end, for the rate limit, then swept.
    """

    __tablename__ = "portal_sessions"

    id: str = id_field()
    credential_id: str = Field(foreign_key="portal_credentials.id", index=True, max_length=36)
    task_id: str = Field(max_length=36)
    lease_token: int
    # Which of the login's `max_sessions` portal sessions the attempt uses: no two live holds share
    # one (runner.core.limits); each slot's session is saved as a `SavedSession`.
    slot: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    started_at: datetime = created_column()
    ended_at: datetime | None = ts_column()
