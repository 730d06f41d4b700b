"""Column helpers shared by the tables: ids, UTC timestamps, portable JSON, enum-typed strings."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

import sqlalchemy as sa
from pydantic_core import PydanticUndefined
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import manager_of_class
from sqlmodel import Field, SQLModel

metadata = SQLModel.metadata

# JSONB on PostgreSQL, JSON (text) on SQLite.
JSONType = sa.JSON().with_variant(JSONB(), "postgresql")


E = TypeVar("E", bound=StrEnum)
M = TypeVar("M", bound=SQLModel)


class EnumText(sa.types.TypeDecorator[E]):
    """A `StrEnum` stored as its value in a plain VARCHAR column (no database enum type, so adding a
    member needs no migration): rows read back as members, and a value that is no member of the
    enum is refused on the way in."""

    impl = sa.String
    cache_ok = True

    def __init__(self, enum: type[E], length: int) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: E | str | None, dialect: sa.Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: sa.Dialect) -> E | None:
        return None if value is None else self.enum(value)


def enum_column(enum: type[StrEnum], *, length: int, nullable: bool = False, **field: Any) -> Any:
    """A column holding members of `enum` (see `EnumText`); `field` as for `Field` (a default)."""
    return Field(sa_type=EnumText(enum, length), nullable=nullable, **field)


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


def new_row(model: type[SQLModel], **values: Any) -> dict[str, Any]:
    """Every column of a new `model` row: `values` over the fields' defaults (factories called), as
    `model(**values)` would hold them. A required field missing from `values` is a TypeError."""
    row: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        if name in values:
            row[name] = values.pop(name)
        elif field.default_factory is not None:
            row[name] = field.default_factory()  # type: ignore[call-arg]
        elif field.default is PydanticUndefined:
            raise TypeError(f"a new {model.__name__} needs {name!r}")
        else:
            row[name] = field.default
    if values:
        raise TypeError(f"{model.__name__} has no field {', '.join(map(repr, values))}")
    return row


def detached(model: type[M], row: dict[str, Any]) -> M:
    """A `model` instance holding `row` (every column, as stored) as if loaded and its session
    closed: what `model(**row)` is after its insert commits, without the per-attribute bookkeeping
    of construction (about 100 us for a task's 49 columns). `session.add` makes it persistent.
    SQLAlchemy's own loading path: a bare instance, its dict filled, then given its identity."""
    manager = manager_of_class(model)
    instance: M = manager.new_instance()
    instance.__dict__.update(row)
    make_transient_to_detached(instance)
    return instance
