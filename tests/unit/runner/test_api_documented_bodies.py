"""The OpenAPI document describes the bodies that validation accepts (schemathesis found the hand-
written ones of POST /batches and /tasks/{id}/input looser): JSON bodies generated from the
documented schemas are never refused as invalid, bodies outside them are, and the limits the
document gives are this installation's settings."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlmodel import select

from runner.core.db import session_scope
from runner.core.settings import Settings
from runner.core.system import System
from runner.core.tables import Batch
from tests.support.task_fixtures import task_fixture
from tests.unit.runner.callers import Caller
from tests.unit.runner.test_batches import csv_file, good_row

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # no database rules here

MAX_ROWS = 5
MAX_DATA = 2000
EXAMPLES = hypothesis_settings(
    max_examples=25, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck)
)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"batch_max_rows": MAX_ROWS, "max_data_chars": MAX_DATA})


def documented(api: TestClient, path: str, media: str = "application/json") -> dict[str, Any]:
    body = api.get("/openapi.json").json()["paths"][path]["post"]["requestBody"]
    schema: dict[str, Any] = body["content"][media]["schema"]
    return schema


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=15), inner, max_size=3),
    max_leaves=8,
)
KNOWN = {
    "type",
    "properties",
    "required",
    "additionalProperties",
    "enum",
    "default",
    "description",
    "items",
    "minItems",
    "maxItems",
    "anyOf",
    "pattern",
    "maxLength",
}


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values the schema allows, for the keywords our hand-written bodies use (a keyword this does
    not know fails the test, so that the document cannot say more than is checked here)."""
    assert set(schema) <= KNOWN, set(schema) - KNOWN
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "anyOf" in schema:
        return st.one_of([from_schema(option) for option in schema["anyOf"]])
    kind = schema.get("type")
    if kind == "string":
        text = st.from_regex(schema["pattern"], fullmatch=True) if "pattern" in schema else st.text()
        return text.filter(lambda value: len(value) <= schema.get("maxLength", 10**9))
    if kind == "array":
        return st.lists(
            from_schema(schema["items"]),
            min_size=schema.get("minItems", 0),
            max_size=schema.get("maxItems", 5),
        )
    assert kind == "object", schema
    if "properties" not in schema:
        return st.dictionaries(st.text(max_size=15), JSON_VALUES, max_size=4)  # any object
    assert schema.get("additionalProperties") is False
    required = set(schema.get("required", []))
    return st.fixed_dictionaries(
        {name: from_schema(sub) for name, sub in schema["properties"].items() if name in required},
        optional={
            name: from_schema(sub) for name, sub in schema["properties"].items() if name not in required
        },
    )


def test_the_documented_limits_are_the_settings(api: TestClient) -> None:
    batch = documented(api, "/batches")
    assert batch["additionalProperties"] is False and batch["required"] == ["rows"]
    assert (batch["properties"]["rows"]["minItems"], batch["properties"]["rows"]["maxItems"]) == (1, MAX_ROWS)
    assert documented(api, "/batches", "multipart/form-data")["additionalProperties"] is False
    for path in ("/tasks", "/tasks/{task_id}/input"):
        text, _object = documented(api, path)["properties"]["data"]["anyOf"]
        assert text["maxLength"] == MAX_DATA and "pattern" in text
        form = documented(api, path, "multipart/form-data")
        assert form["additionalProperties"] is False and form["properties"]["files"]["maxItems"] == 10
    assert (
        api.get("/openapi.json").json()["paths"]["/tasks/{task_id}/input"]["post"]["requestBody"]["required"]
        is False
    )  # no body at all checks a task again


def test_every_documented_batch_body_is_accepted(api: TestClient, caller: Caller) -> None:
    @EXAMPLES
    @given(from_schema(documented(api, "/batches")))
    def accepted(body: dict[str, Any]) -> None:
        response = api.post("/batches", json=body, headers=caller.headers)
        assert response.status_code == 200, (body, response.text)

    accepted()


def test_every_documented_input_body_is_accepted(api: TestClient, system: System) -> None:
    created = system.accounts.create("Clinic Without Logins")  # its tasks wait on the portal login
    caller = Caller(created.account.id, created.api_key, created.account.public_id)
    complete = task_fixture("check_eligibility")

    @EXAMPLES
    @given(from_schema(documented(api, "/tasks/{task_id}/input")))
    def accepted(body: dict[str, Any]) -> None:
        task = api.post(
            "/tasks", json={"type": "check_eligibility", "data": complete}, headers=caller.headers
        )
        assert task.json()["status"] == "waiting_for_input", task.text
        response = api.post(f"/tasks/{task.json()['id']}/input", json=body, headers=caller.headers)
        assert response.status_code == 200, (body, response.text)

    accepted()


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"rows": []}, "`rows` is empty"),
        ({"rows": [good_row(1)] * (MAX_ROWS + 1)}, f"at most {MAX_ROWS}"),
        ({"rows": ["member_id: 1"], "colour": "blue"}, "Unknown field(s) colour"),
        ({"type": "send_fax", "rows": ["member_id: 1"]}, "Unknown task type"),
        ({"type": "check_eligibility"}, "`rows`"),
    ],
)
def test_a_batch_body_outside_the_document_is_refused(
    api: TestClient, caller: Caller, system: System, body: dict[str, Any], says: str
) -> None:
    response = api.post("/batches", json=body, headers=caller.headers)
    assert response.status_code == 422 and says in response.json()["error"]["message"], response.text
    with session_scope(system.engine, readonly=True) as session:
        assert session.exec(select(Batch)).all() == []


def test_a_batch_form_or_key_outside_the_document_is_refused(api: TestClient, caller: Caller) -> None:
    file = {"file": ("a.csv", csv_file([good_row(1)]), "text/csv")}
    extra = api.post("/batches", files={**file, "colour": (None, "blue")}, headers=caller.headers)
    assert extra.status_code == 422 and "colour" in extra.json()["error"]["message"]
    for key in ("", "k" * 256):
        headers = {**caller.headers, "Idempotency-Key": key}
        refused = api.post("/batches", files=file, headers=headers)
        assert refused.status_code == 422 and "Idempotency-Key" in refused.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"data": "DOB: 1990-01-15", "files": []}, 422, "Unknown field(s) files"),
        ({"data": "DOB: 1990-01-15\x00"}, 422, "NUL"),
        ({"data": "{DOB: 1990-01-15"}, 422, "JSON"),
        ({"data": "x" * (MAX_DATA + 1)}, 413, "limit"),
    ],
)
def test_an_input_body_outside_the_document_is_refused(
    api: TestClient, caller: Caller, body: dict[str, Any], status: int, says: str
) -> None:
    data = "\n".join(line for line in task_fixture("check_eligibility").splitlines() if "DOB" not in line)
    task = api.post("/tasks", json={"type": "check_eligibility", "data": data}, headers=caller.headers).json()
    assert task["status"] == "waiting_for_input"
    response = api.post(f"/tasks/{task['id']}/input", json=body, headers=caller.headers)
    assert response.status_code == status and says in response.json()["error"]["message"], response.text
    assert api.get(f"/tasks/{task['id']}", headers=caller.headers).json()["status"] == "waiting_for_input"
