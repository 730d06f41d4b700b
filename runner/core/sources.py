"""Where a schedule's CSV comes from: a path on the machine that fires, or an http(s) URL checked
by the destination policy (https only in production), never followed through redirects, read up
to the batch size limit.

`{date}` in the source is the firing's date in the schedule's time zone and `{date+N}` the Nth
business day after it (Saturday and Sunday skipped): `appointments-{date+1}.csv` is the next
business day's file.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from runner.core import batchfile
from runner.core.destinations import AddressGuard
from runner.core.errors import SopwrightError

FETCH_TIMEOUT = 30.0
_DATE = re.compile(r"\{date(?:\+(\d{1,2}))?\}")


class SourceError(SopwrightError):
    """A firing could not read its source (the file, the URL or the CSV in it)."""

    code = "schedule_source"


def source_for(source: str, due: datetime, timezone: str) -> str:
    """`source` with `{date}` / `{date+N}` filled in for a firing at `due`."""
    day = due.astimezone(ZoneInfo(timezone)).date()
    return _DATE.sub(lambda m: _business_days_after(day, int(m.group(1) or 0)).isoformat(), source)


def _business_days_after(day: date, count: int) -> date:
    while count > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


def read_source(location: str, guard: AddressGuard, *, max_bytes: int) -> bytes:
    """The bytes of a schedule's source, or SourceError saying why they cannot be read."""
    if "://" in location:
        return _fetch(location, guard, max_bytes)
    path = Path(location)
    try:
        size = path.stat().st_size
        batchfile.check_size(size, max_bytes)
        return path.read_bytes()
    except FileNotFoundError:
        raise SourceError(f"The source file {location} does not exist.") from None
    except IsADirectoryError:
        raise SourceError(f"The source {location} is a directory, not a CSV file.") from None
    except PermissionError:
        raise SourceError(f"The source file {location} cannot be read (permission denied).") from None


def _fetch(url: str, guard: AddressGuard, max_bytes: int) -> bytes:
    guard.check_url(url, warn_unresolvable=False)
    try:
        with (
            httpx.Client(timeout=FETCH_TIMEOUT, follow_redirects=False, trust_env=False) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code != 200:
                raise SourceError(f"The source URL answered HTTP {response.status_code}.")
            body = bytearray()
            for chunk in response.iter_bytes():
                body.extend(chunk)
                batchfile.check_size(len(body), max_bytes)
            return bytes(body)
    except httpx.HTTPError as exc:
        raise SourceError(f"The source URL could not be fetched ({type(exc).__name__}).") from None
