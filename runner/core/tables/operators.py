"""Operators (people who use the console) and their signed-in sessions."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from runner.core.tables.base import created_column, id_field, ts_column


class Operator(SQLModel, table=True):
    """A person of one account: signs in with email + password (argon2 hash), has one role."""

    __tablename__ = "operators"

    id: str = id_field()
    account_id: str = Field(foreign_key="accounts.id", index=True, max_length=36)
    email: str = Field(max_length=320, unique=True, index=True)  # stored lower-cased
    role: str = Field(max_length=16)  # viewer | reviewer | admin
    password_hash: str = Field(max_length=200)
    failed_logins: int = Field(default=0)
    locked_until: datetime | None = ts_column()
    last_login_at: datetime | None = ts_column()
    disabled_at: datetime | None = ts_column()
    created_at: datetime = created_column()
    updated_at: datetime = created_column()


class OperatorSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored (the id)."""

    __tablename__ = "operator_sessions"

    id: str = Field(primary_key=True, max_length=64)  # sha256 hex of the cookie token
    operator_id: str = Field(foreign_key="operators.id", index=True, max_length=36)
    account_id: str = Field(foreign_key="accounts.id", max_length=36)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = created_column()
    last_seen_at: datetime = created_column()
    expires_at: datetime = Field(sa_type=sa.DateTime(timezone=True), nullable=False)
