"""Page cursors: an opaque token naming the last row of a page (its creation time and id).

Lists are ordered newest first by (created_at, id); the next page is what sorts after the
cursor. A cursor comes back from the client, so it is read like any client input: bounded in
length and depth, and anything that is not a cursor this service wrote is a 422, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime

from runner.core.errors import InvalidRequest
from runner.core.tables.base import as_utc
from sops import jsonlimits
from sops.errors import JsonRefused

MAX_CURSOR_CHARS = 200  # the cursors written here are about 100 characters


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
