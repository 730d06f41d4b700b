"""Integer ids on the API (Serene's `"id": 1, "accountId": 1`): every task route takes the
integer, a UUID from an older link still names the task, and isolation holds for both forms."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from runner.core.db import session_scope
from runner.core.system import System
from runner.core.tables import Trajectory
from tests.unit.runner.callers import Caller, task_row
from tests.unit.runner.test_api_tasks import assert_error

# Serene's documented example, byte for byte (DOMAIN.md §1).
SERENE_EXAMPLE = {
    "type": "submit_claim",
    "data": "member_id: 300059049\npatient: Jane Doe\nDOB: 1990-01-15\nservice_date: 2025-03-20",
}


def test_serenes_example_gets_integer_id_and_account_id(
    api: TestClient, caller: Caller, other_caller: Caller
) -> None:
    mine = api.post("/tasks", json=SERENE_EXAMPLE, headers=caller.headers)
    theirs = api.post("/tasks", json=SERENE_EXAMPLE, headers=other_caller.headers)
    assert mine.status_code == theirs.status_code == 200, (mine.text, theirs.text)
    a, b = mine.json(), theirs.json()
    for task, account in ((a, caller), (b, other_caller)):
        assert type(task["id"]) is int and type(task["accountId"]) is int  # a typed `id: number`
        assert task["accountId"] == account.public_id and task["task_number"] == 1
    # `task_number` counts per account; `id` is unique across the installation.
    assert a["id"] != b["id"] and a["accountId"] != b["accountId"]
    assert api.get(f"/tasks/{a['id']}", headers=caller.headers).json() == a


def test_a_uuid_from_an_older_link_still_answers_with_the_integer_id(
    api: TestClient, caller: Caller, system: System
) -> None:
    task = api.post("/tasks", json=SERENE_EXAMPLE, headers=caller.headers).json()
    row = task_row(system, task["id"])
    for form in (row.id, row.id.upper()):
        shown = api.get(f"/tasks/{form}", headers=caller.headers)
        assert shown.status_code == 200 and shown.json() == task
        trajectory = api.get(f"/tasks/{form}/trajectory", headers=caller.headers).json()
        assert trajectory["task_id"] == task["id"]
    deliveries = api.get("/webhooks/deliveries", params={"task_id": row.id}, headers=caller.headers)
    assert deliveries.status_code == 200
    cancelled = api.post(f"/tasks/{row.id}/cancel", headers=caller.headers)
    assert cancelled.status_code == 200 and cancelled.json()["id"] == task["id"]
    [delivery] = api.get(
        "/webhooks/deliveries", params={"task_id": task["id"]}, headers=caller.headers
    ).json()["data"]
    assert delivery["task_id"] == task["id"]


def test_the_trajectory_names_attempts_by_integer_ids(
    api: TestClient, caller: Caller, system: System
) -> None:
    task = api.post("/tasks", json=SERENE_EXAMPLE, headers=caller.headers).json()
    row = task_row(system, task["id"])
    with session_scope(system.engine) as session:
        attempts = [Trajectory(task_id=row.id, account_id=row.account_id, attempt=n) for n in (1, 2)]
        session.add_all(attempts)
    shown = api.get(f"/tasks/{task['id']}/trajectory", headers=caller.headers).json()
    assert [a["trajectory_id"] for a in shown["attempts"]] == [t.public_id for t in attempts]
    assert all(type(a["trajectory_id"]) is int for a in shown["attempts"])
    assert shown["trajectory_id"] == attempts[-1].public_id and shown["task_id"] == task["id"]


def test_another_accounts_task_is_404_by_integer_and_by_uuid(
    api: TestClient, caller: Caller, other_caller: Caller, system: System
) -> None:
    task = api.post("/tasks", json=SERENE_EXAMPLE, headers=caller.headers).json()
    for ref in (str(task["id"]), task_row(system, task["id"]).id):
        for method, path, body in [
            ("GET", f"/tasks/{ref}", None),
            ("POST", f"/tasks/{ref}/cancel", None),
            ("POST", f"/tasks/{ref}/input", {"data": "x: y"}),
            ("POST", f"/tasks/{ref}/review", {"decision": "approve"}),
            ("GET", f"/tasks/{ref}/files/x", None),
            ("GET", f"/tasks/{ref}/trajectory", None),
            ("GET", f"/tasks/{ref}/artifacts/a/b.png", None),
        ]:
            response = api.request(method, path, headers=other_caller.headers, json=body)
            assert_error(response, 404, "not_found")
        listed = api.get("/webhooks/deliveries", params={"task_id": ref}, headers=other_caller.headers)
        assert listed.status_code == 200 and listed.json()["data"] == []
    assert api.get(f"/tasks/{task['id']}", headers=caller.headers).json()["status"] == "waiting_for_input"


@pytest.mark.parametrize(
    "ref",
    [
        "0",
        "-1",
        "9223372036854775808",
        "99999999999999999999999999",
        "1e3",
        "abc",
        "\u0661",
        "%20",
    ],  # \u0661: an Arabic-Indic digit one,
)
def test_ids_that_name_no_task_are_404(api: TestClient, caller: Caller, ref: str) -> None:
    api.post("/tasks", json=SERENE_EXAMPLE, headers=caller.headers)
    assert_error(api.get(f"/tasks/{ref}", headers=caller.headers), 404, "not_found")
    assert_error(api.post(f"/tasks/{ref}/cancel", headers=caller.headers), 404, "not_found")


def test_the_openapi_document_says_the_ids_are_integers(api: TestClient) -> None:
    schemas = api.get("/openapi.json").json()["components"]["schemas"]
    task = schemas["TaskPublic"]["properties"]
    assert task["id"]["type"] == "integer" and task["accountId"]["type"] == "integer"
    assert {"type": "integer"} in task["trajectory_id"]["anyOf"]
    assert schemas["DeliveryPublic"]["properties"]["task_id"]["anyOf"][0]["type"] == "integer"
    assert schemas["TrajectoryPublic"]["properties"]["task_id"]["type"] == "integer"
