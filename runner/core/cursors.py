"""Keyset paging: an opaque cursor naming the last row of a page (its creation time and id).

Lists are ordered newest first by (created_at, id); the next page is what sorts after the
cursor. A cursor comes back from the client, so it is read like any client input: bounded in
length and depth, and anything that is not a cursor this service wrote is a 422, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlmodel.sql.expression import SelectOfScalar

from runner.core.errors import InvalidRequest
from runner.core.tables.base import as_utc
from sops import jsonlimits
from sops.errors import JsonRefused

MAX_CURSOR_CHARS = 200  # the cursors written here are about 100 characters


class Keyed(Protocol):
    @property
    def created_at(self) -> datetime: ...

    @property
    def id(self) -> str: ...


R = TypeVar("R", bound=Keyed)


def newest_first(
    statement: SelectOfScalar[R],
    *,
    created: Mapped[datetime],
    key: Mapped[str],
    cursor: str | None,
    limit: int,
) -> SelectOfScalar[R]:
    """`statement` ordered newest first by (`created`, `key`), from after `cursor`, with one row
    more than `limit` (so that `split` can tell whether there is a next page)."""
    if cursor:
        at, last_id = decode(cursor)
        statement = statement.where(sa.or_(created < at, sa.and_(created == at, key < last_id)))
    return statement.order_by(created.desc(), key.desc()).limit(limit + 1)


def split(rows: list[R], limit: int) -> tuple[list[R], str | None]:
    """The page of `rows` (read with `newest_first`) and the cursor of the next one, if any."""
    page = rows[:limit]
    return page, encode(page[-1].created_at, page[-1].id) if len(rows) > limit else None


def encode(created_at: datetime, row_id: str) -> str:
    created = as_utc(created_at)
    assert created is not None
    payload = json.dumps([created.isoformat(), row_id]).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def decode(cursor: str) -> tuple[datetime, str]:
    """The (created_at in UTC, id) a cursor names; InvalidRequest for anything else."""
    refused = InvalidRequest("The cursor is not valid; use the next_cursor of a previous page.")
    if len(cursor) > MAX_CURSOR_CHARS:
        raise refused
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = jsonlimits.loads(base64.urlsafe_b64decode(padded.encode()), max_depth=1)
        at, last_id = value
        if not isinstance(at, str) or not isinstance(last_id, str):
            raise refused
        created = as_utc(datetime.fromisoformat(at))
    except (binascii.Error, ValueError, TypeError, JsonRefused):
        raise refused from None
    assert created is not None
    return created.astimezone(UTC), last_id
