"""The console renders whatever a client could have put in a task or a cookie (issue 15, items 2
and 6): odd shapes and nesting are shown, never a 500."""

from __future__ import annotations

import base64

from tests.unit.console.signed import Person


def test_a_forged_flash_cookie_is_ignored(reviewer: Person) -> None:
    nested = base64.urlsafe_b64encode(b"[" * 3000 + b"]" * 3000).decode()
    reviewer.client.cookies.set("sopwright_flash", nested)
    page = reviewer.get("/tasks")
    assert page.status_code == 200
