"""How a client names a task (or a trajectory): by its integer id, or by the UUID that links
handed out before ids were integers carry, so that those links keep working.

A reference that is neither names nothing (a 404 like any unknown id), never a 500: an integer
beyond the 64-bit range, a path segment that is not a UUID.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

MAX_PUBLIC_ID = 2**63 - 1  # BIGINT


def public_id_of(ref: str | int) -> int | None:
    """The integer id a reference holds, or None if it holds none (a UUID, garbage)."""
    if isinstance(ref, int):
        return ref if 0 < ref <= MAX_PUBLIC_ID else None
    if not (ref.isascii() and ref.isdigit()) or len(ref) > 19:
        return None
    value = int(ref)
    return value if 0 < value <= MAX_PUBLIC_ID else None


def uuid_of(ref: str | int) -> str | None:
    """The UUID a reference holds, in the form the rows store it, or None."""
    if isinstance(ref, int) or len(ref) > 45:
        return None
    try:
        return str(uuid.UUID(ref))
    except ValueError:
        return None


def matching(public_id: Any, row_id: Any, ref: str | int) -> sa.ColumnElement[bool]:
    """A WHERE clause for the row `ref` names, given its public id and UUID columns."""
    number = public_id_of(ref)
    if number is not None:
        return sa.and_(public_id == number)
    found = uuid_of(ref)
    if found is not None:
        return sa.and_(row_id == found)
    return sa.false()
