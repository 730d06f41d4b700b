"""Integer public ids (Serene's `"id": 1, "accountId": 1`) for accounts, tasks and trajectories.

Rows keep their UUID primary keys inside the service; `public_id` is a second, unique integer
that clients see and put in URLs. It counts across the whole installation (the per-account
sequence is `task_number`) and is drawn when the row is inserted, in the inserting transaction:

- PostgreSQL: the column is an identity column and the value comes from its sequence, which
  hands out numbers without a lock: any number of API processes insert at once and never draw
  the same one (a rolled-back insert leaves a gap, never a duplicate).
- SQLite has no sequences: `public_id_counters` holds the last value per table, bumped by the
  inserting transaction. SQLite has one writer at a time (sopwright's writers BEGIN IMMEDIATE),
  so two inserts cannot draw the same value, and the counter never goes back, so a value is
  never handed out twice.

The unique index on each column is the backstop on both. Values are drawn by a `before_insert`
hook, so every ORM insert gets one whoever wrote it; a task also gets its account's public id.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from runner.core.tables.accounts import Account
from runner.core.tables.tasks import Task, Trajectory


class PublicIdCounter(SQLModel, table=True):
    """SQLite only (PostgreSQL uses the identity columns' sequences): the last public id drawn
    per table."""

    __tablename__ = "public_id_counters"

    name: str = Field(primary_key=True, max_length=64)  # the table's name
    last_value: int = Field(default=0, sa_type=sa.BigInteger)


def next_public_id(connection: sa.Connection, table: str) -> int:
    """Draw the next public id of `table` (one of the tables with a `public_id` column)."""
    if table not in _DRAW_ON_SQLITE:
        raise ValueError(f"{table!r} has no public ids")
    statement = _DRAW_ON_POSTGRESQL if connection.dialect.name == "postgresql" else _DRAW_ON_SQLITE[table]
    return int(connection.execute(statement, {"table": table}).scalar_one())


_DRAW_ON_POSTGRESQL = sa.text("SELECT nextval(pg_get_serial_sequence(:table, 'public_id'))")
# The counter, but never below a value already stored (a row inserted with its own id). Built once
# per table (every create draws one): TABLE is one of ours, never input.
_DRAW_ON_SQLITE = {
    table: sa.text(
        "INSERT INTO public_id_counters (name, last_value) "
        "VALUES (:table, (SELECT coalesce(max(public_id), 0) + 1 FROM TABLE)) "
        "ON CONFLICT (name) DO UPDATE SET last_value = "
        "max(last_value, (SELECT coalesce(max(public_id), 0) FROM TABLE)) + 1 "
        "RETURNING last_value".replace("TABLE", table)
    )
    for table in (str(Account.__tablename__), str(Task.__tablename__), str(Trajectory.__tablename__))
}


def _draw(_mapper: Any, connection: sa.Connection, target: Any) -> None:
    if target.public_id is None:
        target.public_id = next_public_id(connection, target.__tablename__)


def _draw_task(mapper: Any, connection: sa.Connection, target: Task) -> None:
    _draw(mapper, connection, target)
    if target.account_public_id is None:
        found = connection.execute(
            sa.select(Account.__table__.c.public_id).where(Account.__table__.c.id == target.account_id)
        ).scalar_one_or_none()
        target.account_public_id = found


sa.event.listen(Account, "before_insert", _draw)
sa.event.listen(Trajectory, "before_insert", _draw)
sa.event.listen(Task, "before_insert", _draw_task)
