"""Hostile JSON through the API: too deep, too long a number, a forged cursor. Each is a 422 that
names the limit, stores nothing, and is never a 500 (issue 15, items 2 and 6)."""

from __future__ import annotations

import base64
import json

import pytest
from fastapi.testclient import TestClient

from runner.core.system import System
from tests.unit.runner.callers import Caller
from tests.unit.runner.test_api_tasks import count_tasks, eligibility_data

# The probe's poison: about 600 bytes of nested lists in `data`.
POISON = '{"member_id": ' + "[" * 300 + "]" * 300 + "}"


def refused(response_status: int, body: dict[str, object]) -> str:
    assert response_status == 422, body
    error = body["error"]
    assert isinstance(error, dict) and error["code"] == "invalid_request"
    return str(error["message"])


def test_deeply_nested_data_is_refused_and_nothing_is_saved(
    api: TestClient, caller: Caller, system: System
) -> None:
    response = api.post("/tasks", json={"type": "check_eligibility", "data": POISON}, headers=caller.headers)
    message = refused(response.status_code, response.json())
    assert "nested more than 32 levels" in message and "flatter JSON" in message
    assert count_tasks(system) == 0
    listed = api.get("/tasks", headers=caller.headers)
    assert listed.status_code == 200 and listed.json()["data"] == []


def test_deeply_nested_data_given_as_an_object_is_refused(
    api: TestClient, caller: Caller, system: System
) -> None:
    data = {"member_id": json.loads("[" * 300 + "]" * 300)}
    body = json.dumps({"type": "check_eligibility", "data": data})
    response = api.post(
        "/tasks", content=body, headers={**caller.headers, "Content-Type": "application/json"}
    )
    assert "The request body is nested more than 32 levels" in refused(response.status_code, response.json())
    assert count_tasks(system) == 0


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("[" * 100_000, "nested more than 32 levels"),
        ('{"type": "check_eligibility", "data": ' + "9" * 4_301 + "}", "4,301 digits"),
        ('{"type": "check_eligibility", "data": NaN}', "NaN"),
    ],
    ids=["100k-brackets", "long-integer", "nan"],
)
def test_hostile_json_bodies_are_422(api: TestClient, caller: Caller, body: str, words: str) -> None:
    headers = {**caller.headers, "Content-Type": "application/json"}
    created = api.post(
        "/tasks", json={"type": "check_eligibility", "data": "member: 1"}, headers=caller.headers
    )
    for path in ("/tasks", f"/tasks/{created.json()['id']}/input"):
        response = api.post(path, content=body, headers=headers)
        assert words in refused(response.status_code, response.json()), path


@pytest.mark.parametrize(
    "data",
    [
        '{"member_id": "1", "comment": ' + "1" * 5_000 + "}",
        '{"member_id": "1", "comment": NaN}',
        '{"member_id": "1", "comment": 1e999}',
    ],
    ids=["long-integer", "nan", "infinite"],
)
def test_numbers_no_database_can_store_are_refused_in_data(
    api: TestClient, caller: Caller, system: System, data: str
) -> None:
    response = api.post("/tasks", json={"type": "check_eligibility", "data": data}, headers=caller.headers)
    assert "`data` cannot be read: its JSON object holds" in refused(response.status_code, response.json())
    assert count_tasks(system) == 0


def forged_cursor(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        forged_cursor(json.loads("[" * 900 + "]" * 900)),
        base64.urlsafe_b64encode(b"[" * 3000).decode(),
        forged_cursor({"a": 1, "b": 2}),
        forged_cursor([1, 2]),
        forged_cursor(["2026-01-01T00:00:00+00:00", ["id"]]),
        "not a cursor",
    ],
    ids=["nested", "brackets", "object", "numbers", "nested-id", "junk"],
)
@pytest.mark.parametrize("path", ["/tasks", "/webhooks/deliveries"])
def test_a_forged_cursor_is_422(api: TestClient, caller: Caller, path: str, cursor: str) -> None:
    response = api.get(path, params={"cursor": cursor}, headers=caller.headers)
    assert "cursor is not valid" in refused(response.status_code, response.json())


def test_a_real_cursor_still_pages(api: TestClient, caller: Caller) -> None:
    for _ in range(3):
        api.post(
            "/tasks", json={"type": "check_eligibility", "data": eligibility_data()}, headers=caller.headers
        )
    first = api.get("/tasks", params={"limit": 2}, headers=caller.headers).json()
    second = api.get("/tasks", params={"limit": 2, "cursor": first["next_cursor"]}, headers=caller.headers)
    assert second.status_code == 200
    assert [t["task_number"] for t in first["data"] + second.json()["data"]] == [3, 2, 1]
