"""Column helpers shared by the tables: ids, UTC timestamps, portable JSON."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

metadata = SQLModel.metadata

# JSONB on PostgreSQL, JSON (text) on SQLite.
JSONType = sa.JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


def id_field() -> Any:
    return Field(default_factory=new_id, primary_key=True, max_length=36)


def public_id_field() -> Any:
    """The integer id clients see (`runner.core.tables.public_ids` draws it at insert)."""
    return Field(
        default=None,
        sa_column=sa.Column(sa.BigInteger, sa.Identity(), nullable=False, unique=True, index=True),
    )


def ts_column(*, nullable: bool = True, index: bool = False) -> Any:
    """A timezone-aware timestamp column (SQLite stores it naive; `as_utc` restores the zone)."""
    return Field(default=None, sa_type=sa.DateTime(timezone=True), nullable=nullable, index=index)


def created_column() -> Any:
    return Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True), nullable=False)


def json_column(default: Any) -> Any:
    factory = (lambda: dict(default)) if isinstance(default, dict) else (lambda: list(default))
    return Field(default_factory=factory, sa_type=JSONType, nullable=False)


def nullable_json_column() -> Any:
    return Field(default=None, sa_type=JSONType, nullable=True)


def as_utc(value: datetime | None) -> datetime | None:
    """Timestamps read back from SQLite are naive; every stored timestamp is UTC."""
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
