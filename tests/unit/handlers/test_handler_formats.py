"""Portal text to the API's vocabulary: confirmation times become ISO 8601 UTC."""

from __future__ import annotations

import pytest

from handlers.portals.common.formats import confirmation_time


@pytest.mark.parametrize(
    ("shown", "iso"),
    [
        ("12/04/2026 01:26:48 PM UTC", "2026-12-04T13:26:48.000Z"),  # Acme
        ("12/04/2026 12:05:01 AM UTC", "2026-12-04T00:05:01.000Z"),
        ("Dec 04, 2026 at 13:27 UTC", "2026-12-04T13:27:00.000Z"),  # Beacon
        ("  Dec 04, 2026   at 13:27 UTC ", "2026-12-04T13:27:00.000Z"),
        ("12/04/2026", "2026-12-04"),  # a list that shows the day only
        ("Dec 04, 2026", "2026-12-04"),
    ],
)
def test_portal_times_become_iso_utc(shown: str, iso: str) -> None:
    assert confirmation_time(shown) == {"confirmed_at": iso, "confirmed_at_text": " ".join(shown.split())}


@pytest.mark.parametrize("shown", ["", None, "yesterday", "13/45/2026 99:00:00 PM UTC"])
def test_unreadable_times_keep_the_text_only(shown: str | None) -> None:
    found = confirmation_time(shown)
    assert found["confirmed_at"] is None
    assert found["confirmed_at_text"] == ((shown or "").strip() or None)
