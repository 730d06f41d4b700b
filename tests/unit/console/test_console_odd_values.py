"""The console renders whatever a client could have put in a task or a cookie (issue 15, items 2
and 6): odd shapes and nesting are shown, never a 500."""

from __future__ import annotations

import base64

import pytest

from runner.core.system import System
from runner.core.tables import Account
from sops.jsonlimits import TOO_DEEP
from tests.support.poison import poison_row
from tests.unit.console.signed import Person


def test_a_forged_flash_cookie_is_ignored(reviewer: Person) -> None:
    nested = base64.urlsafe_b64encode(b"[" * 3000 + b"]" * 3000).decode()
    reviewer.client.cookies.set("sopwright_flash", nested)
    page = reviewer.get("/tasks")
    assert page.status_code == 200


@pytest.mark.parametrize("status", ["waiting_for_input", "pending_review", "failed"])
def test_a_poison_row_renders_on_every_page(
    system: System, reviewer: Person, clinic: Account, status: str
) -> None:
    task = poison_row(system, clinic, status=status)
    for path in ("/tasks", f"/tasks/{task.id}", f"/tasks/number/{task.task_number}", "/input", "/review"):
        page = reviewer.get(path, follow_redirects=True)
        assert page.status_code == 200, (path, page.text[-500:])
    page = reviewer.get(f"/tasks/{task.id}")
    assert TOO_DEEP in page.text


def test_a_list_of_a_record_and_a_number_is_shown(system: System, reviewer: Person, clinic: Account) -> None:
    data = '{"member_id": "TST100200300", "foo": [{"a": 1}, 5], "bar": [5, {"b": 2}]}'
    task = system.tasks.create(clinic, type="check_eligibility", data=data, actor="test")
    page = reviewer.get(f"/tasks/{task.id}")
    assert page.status_code == 200, page.text[-500:]
    assert "a 1, 5" in page.text and "5, b 2" in page.text
