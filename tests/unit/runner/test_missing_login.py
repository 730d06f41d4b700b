"""A task whose payer has no portal login waits for input at create, naming the payers the
account has logins for and how to add one; once a login is added, `/input` (an empty body
will do) lets it run. Instructions name the portal as a person knows it (issue 15 items 11, 13)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from runner.core.system import System
from tests.support.task_fixtures import task_fixture
from tests.unit.runner.callers import Caller

CLAIM = task_fixture("submit_claim")  # payer: Acme Health


def caller_without_logins(system: System) -> Caller:
    created = system.accounts.create("New clinic")
    return Caller(created.account.id, created.api_key)


def add_login(system: System, account_id: str, payer: str, **kw: object) -> None:
    system.credentials.add(
        account_id,
        payer=payer,
        url=f"http://127.0.0.1:9/{payer}",
        username="biller",
        password="pw",
        totp_secret=None,
        **kw,  # type: ignore[arg-type]
    )


def test_a_payer_without_a_login_waits_at_create_and_runs_once_one_is_added(
    api: TestClient, system: System
) -> None:
    caller = caller_without_logins(system)
    add_login(system, caller.account_id, "beacon", serves=["Bluebird Health Plan"])
    created = api.post("/tasks", json={"type": "submit_claim", "data": CLAIM}, headers=caller.headers)
    assert created.status_code == 200, created.text
    task = created.json()
    assert task["status"] == "waiting_for_input" and task["attempts"] == 0
    assert [p["field"] for p in task["problems"]] == ["payer"]
    notes = task["notes"]
    assert "no portal login is set up for 'Acme Health'" in notes
    assert "Beacon Exchange (beacon; also Bluebird Health Plan)" in notes
    assert "sopwright portals add" in notes and "Settings" in notes

    # Nothing sent while the login is still missing: checked again, still waiting, same note.
    again = api.post(f"/tasks/{task['id']}/input", json={}, headers=caller.headers)
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "waiting_for_input" and again.json()["notes"] == notes

    add_login(system, caller.account_id, "acme")
    resumed = api.post(f"/tasks/{task['id']}/input", json={}, headers=caller.headers)
    assert resumed.status_code == 200, resumed.text
    body = resumed.json()
    assert body["status"] == "pending" and body["notes"] is None and body["problems"] == []
    assert body["instructions"].startswith("SOP: Log in to the Acme Health provider portal.")
    messages = [e.message for e in system.tasks.events(caller.account_id, task["id"])]
    assert messages.count("Checked again.") == 2 and "Inputs complete." in messages


def test_a_missing_login_is_named_beside_the_missing_fields(api: TestClient, system: System) -> None:
    caller = caller_without_logins(system)
    data = "\n".join(line for line in CLAIM.splitlines() if not line.startswith("date of birth"))
    task = api.post("/tasks", json={"type": "submit_claim", "data": data}, headers=caller.headers).json()
    assert task["status"] == "waiting_for_input"
    assert sorted(p["field"] for p in task["problems"]) == ["date_of_birth", "payer"]
    assert "this account has logins for none" in task["notes"]
    # An empty answer is no answer while a field is missing.
    refused = api.post(f"/tasks/{task['id']}/input", json={}, headers=caller.headers)
    assert refused.status_code == 422 and "Send `data`" in refused.text
    add_login(system, caller.account_id, "acme")
    done = api.post(
        f"/tasks/{task['id']}/input", json={"data": "date of birth: 1986-04-12"}, headers=caller.headers
    )
    assert done.json()["status"] == "pending", done.text


def test_instructions_name_the_portal_the_agent_logs_into(api: TestClient, system: System) -> None:
    """A Beacon task names the exchange (the login's name), not the health plan it submits to."""
    caller = caller_without_logins(system)
    add_login(system, caller.account_id, "beacon", serves=["Bluebird Health Plan"])
    data = CLAIM.replace("payer: Acme Health", "payer: Bluebird Health Plan")
    task = api.post("/tasks", json={"type": "submit_claim", "data": data}, headers=caller.headers).json()
    assert task["status"] == "pending", task["notes"]
    assert task["instructions"].startswith("SOP: Log in to the Beacon Exchange provider portal.")
    assert "Bluebird" not in task["instructions"].split(".")[0]
    add_login(
        system, caller.account_id, "beacon", serves=["Bluebird Health Plan"], name="Beacon Provider Exchange"
    )
    renamed = api.post("/tasks", json={"type": "submit_claim", "data": data}, headers=caller.headers).json()
    assert renamed["instructions"].startswith("SOP: Log in to the Beacon Provider Exchange provider portal.")
