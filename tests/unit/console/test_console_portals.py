"""The console shows a banner on every page while a portal of the account's logins is down, with
that account's own waiting tasks only."""

from __future__ import annotations

from datetime import timedelta

from runner.core.db import session_scope
from runner.core.operators import Role
from runner.core.system import System
from runner.core.tables import Account, PortalHealth, Task, utcnow
from tests.unit.console.signed import Person, person

DATA = "member_id: 300059049\npatient: Jane Doe\nDOB: 1990-01-15\npayer: acme"


def held_task(system: System, account: Account, key: str) -> None:
    task = system.tasks.create(account, type="check_eligibility", data=DATA, actor="test")
    with session_scope(system.engine) as session:
        row = session.get(Task, task.id)
        assert row is not None
        row.status, row.held_for_portal = "pending", key
        session.add(row)


def test_a_down_portal_is_a_banner_with_the_accounts_own_count(
    system: System, clinic: Account, other_clinic: Account, admin: Person
) -> None:
    for account in (clinic, other_clinic):
        system.credentials.add(
            account.id,
            payer="acme",
            url="http://127.0.0.1:8123/acme",
            username="b",
            password="p",
            totp_secret=None,
        )
    page = admin.get("/tasks")
    assert 'data-testid="portal-down"' not in page.text
    now = utcnow()
    with session_scope(system.engine) as session:
        session.add(
            PortalHealth(
                key="127.0.0.1:8123",
                state="down",
                consecutive_faults=5,
                last_fault="The Acme Health portal is down for maintenance.",
                down_since=now - timedelta(minutes=20),
                next_probe_at=now + timedelta(minutes=5),
                updated_at=now,
            )
        )
    held_task(system, clinic, "127.0.0.1:8123")
    for _ in range(3):
        held_task(system, other_clinic, "127.0.0.1:8123")
    page = admin.get("/tasks")
    assert page.status_code == 200
    assert 'data-testid="portal-down"' in page.text
    assert "127.0.0.1:8123" in page.text and "down for maintenance" in page.text
    assert "1 task waits for it without spending attempts" in page.text  # not the other clinic's 3
    bystander = person(system, other_clinic.id, "otto@example.test", Role.VIEWER)
    assert bystander.sign_in().status_code == 303
    assert "3 tasks wait for it" in bystander.get("/review").text


def test_no_banner_for_an_account_without_a_login_there(
    system: System, clinic: Account, admin: Person
) -> None:
    now = utcnow()
    with session_scope(system.engine) as session:
        session.add(PortalHealth(key="127.0.0.1:8123", state="down", down_since=now, updated_at=now))
    assert 'data-testid="portal-down"' not in admin.get("/tasks").text
