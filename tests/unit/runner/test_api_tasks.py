"""POST /tasks and friends, through the real FastAPI app, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from runner.core.db import session_scope
from runner.core.system import System
from runner.core.tables import Task, TaskEvent, TaskFile
from sops.types import TaskType
from tests.support.task_fixtures import task_fixture
from tests.unit.runner.callers import Caller, task_row

SERENE_EXAMPLE = {
    "type": "submit_claim",
    "data": "member_id: 300059049\npatient: Jane Doe\nDOB: 1990-01-15\nservice_date: 2025-03-20",
}
SERENE_KEYS = {
    "id",
    "accountId",
    "task_number",
    "status",
    "handler",
    "title",
    "instructions",
    "trajectory_id",
    "startedAt",
    "completedAt",
    "failedAt",
    "notes",
    "createdAt",
    "updatedAt",
}
ISO_MS_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def eligibility_data() -> str:
    return task_fixture("check_eligibility")


def count_tasks(system: System) -> int:
    with session_scope(system.engine, readonly=True) as session:
        return len(session.exec(select(Task)).all())


def count_files_on_disk(system: System) -> int:
    root = system.settings.data_dir / "files"
    return sum(1 for p in root.rglob("*") if p.is_file()) if root.exists() else 0


def test_serene_example_returns_the_documented_shape(api: TestClient, caller: Caller) -> None:
    response = api.post("/tasks", json=SERENE_EXAMPLE, headers=caller.headers)
    assert response.status_code == 200, response.text
    task = response.json()
    assert task.keys() >= SERENE_KEYS
    assert task["accountId"] == caller.public_id
    # Integers, as in Serene's example (`"id": 1, "accountId": 1`): a typed client's `id: number`.
    assert type(task["id"]) is int and type(task["accountId"]) is int
    assert task["trajectory_id"] is None
    assert task["task_number"] == 1
    assert task["handler"] == "submit_claim_1"
    assert task["title"] == "Submit claim #1"
    assert task["instructions"].startswith("SOP: ")
    assert task["type"] == "submit_claim"
    assert ISO_MS_Z.match(task["createdAt"]) and ISO_MS_Z.match(task["updatedAt"])
    assert task["startedAt"] is None and task["completedAt"] is None and task["failedAt"] is None
    # The example lacks diagnoses and service lines (and billing details): it waits for input,
    # and the note names what is missing.
    assert task["status"] == "waiting_for_input"
    assert "diagnos" in task["notes"].lower()
    assert "service line" in task["notes"].lower()
    assert {p["field"] for p in task["problems"]} >= {"diagnosis_codes", "service_lines"}
    assert task["fields"]["member_id"] == "300059049"

    fetched = api.get(f"/tasks/{task['id']}", headers=caller.headers)
    assert fetched.status_code == 200
    assert fetched.json() == task


def test_complete_task_is_pending(api: TestClient, caller: Caller) -> None:
    response = api.post(
        "/tasks", json={"type": "check_eligibility", "data": eligibility_data()}, headers=caller.headers
    )
    assert response.status_code == 200, response.text
    task = response.json()
    assert task["status"] == "pending", task["notes"]
    assert task["notes"] is None
    assert task["problems"] == []
    assert task["title"] == "Check eligibility #1"


@pytest.mark.parametrize("task_type", list(TaskType))
def test_every_fixture_task_is_accepted_complete(
    api: TestClient, caller: Caller, task_type: TaskType
) -> None:
    data = task_fixture(task_type)
    response = api.post("/tasks", json={"type": task_type, "data": data}, headers=caller.headers)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "pending", response.json()["notes"]


def test_multipart_with_files(api: TestClient, caller: Caller, system: System) -> None:
    pdf = b"%PDF-1.4\n%synthetic\n"
    response = api.post(
        "/tasks",
        data={"type": "submit_appeal", "data": "member_id: 300059049"},
        files=[
            ("files", ("letter.pdf", pdf, "application/pdf")),
            ("files", ("notes.txt", b"hello", "text/plain")),
        ],
        headers=caller.headers,
    )
    assert response.status_code == 200, response.text
    task = response.json()
    assert [f["filename"] for f in task["files"]] == ["letter.pdf", "notes.txt"]
    assert [f["content_type"] for f in task["files"]] == ["application/pdf", "text/plain"]
    download = api.get(f"/tasks/{task['id']}/files/{task['files'][0]['id']}", headers=caller.headers)
    assert download.status_code == 200
    assert download.content == pdf
    assert download.headers["content-type"] == "application/pdf"


def test_files_only_task_reads_text_documents(api: TestClient, caller: Caller) -> None:
    response = api.post(
        "/tasks",
        data={"type": "check_eligibility"},
        files=[("files", ("request.txt", eligibility_data().encode(), "text/plain"))],
        headers=caller.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "pending", response.json()["notes"]


# -- errors: status, one shape, nothing stored ----------------------------------------------


def assert_error(response: object, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert "Traceback" not in response.text  # type: ignore[attr-defined]
    return body["error"]  # type: ignore[no-any-return]


def test_missing_and_invalid_key(api: TestClient, caller: Caller) -> None:
    assert_error(api.post("/tasks", json=SERENE_EXAMPLE), 401, "unauthorized")
    assert_error(
        api.post("/tasks", json=SERENE_EXAMPLE, headers={"Authorization": "Bearer sk_nope_nope"}),
        401,
        "unauthorized",
    )
    assert_error(
        api.post("/tasks", json=SERENE_EXAMPLE, headers={"Authorization": "Basic abc"}), 401, "unauthorized"
    )
    assert api.post("/tasks", json=SERENE_EXAMPLE).headers["www-authenticate"] == "Bearer"


def test_revoked_key(api: TestClient, caller: Caller, system: System) -> None:
    system.accounts.revoke_key(caller.api_key)
    error = assert_error(api.get("/tasks", headers=caller.headers), 401, "unauthorized")
    assert "revoked" in str(error["message"])


@pytest.mark.parametrize(
    ("kwargs", "status", "code", "fragment"),
    [
        (
            {"content": b"{not json", "headers": {"content-type": "application/json"}},
            422,
            "invalid_request",
            "not valid JSON",
        ),
        ({"content": b"", "headers": {"content-type": "application/json"}}, 422, "invalid_request", "empty"),
        (
            {"content": b"[1, 2]", "headers": {"content-type": "application/json"}},
            422,
            "invalid_request",
            "JSON object",
        ),
        (
            {
                "content": b'{"type": "submit_claim", "data": "\xff\xfe"}',
                "headers": {"content-type": "application/json"},
            },
            422,
            "invalid_request",
            "UTF-8",
        ),
        ({"json": {"type": "fax_claim"}}, 422, "unknown_task_type", "check_eligibility"),
        ({"json": {"data": "member_id: 1"}}, 422, "unknown_task_type", "required"),
        ({"json": {"type": "submit_claim", "dat": "x"}}, 422, "invalid_request", "Unknown field"),
        ({"json": {"type": "submit_claim", "data": 12}}, 422, "invalid_request", "must be a string"),
        ({"json": {"type": "submit_claim", "data": "x" * 1_000_000}}, 413, "too_large", "limit"),
        ({"json": {"type": "submit_claim", "data": "a\x00b"}}, 422, "invalid_request", "NUL"),
        (
            {"content": b"type=submit_claim", "headers": {"content-type": "text/plain"}},
            415,
            "unsupported_media_type",
            "Content-Type",
        ),
    ],
)
def test_bad_requests_store_nothing(
    api: TestClient,
    caller: Caller,
    system: System,
    kwargs: dict[str, object],
    status: int,
    code: str,
    fragment: str,
) -> None:
    request = dict(kwargs)
    headers = {**caller.headers, **request.pop("headers", {})}  # type: ignore[dict-item]
    error = assert_error(api.post("/tasks", headers=headers, **request), status, code)  # type: ignore[arg-type]
    assert fragment in str(error["message"])
    assert count_tasks(system) == 0


def test_unknown_type_lists_valid_ones(api: TestClient, caller: Caller) -> None:
    error = assert_error(
        api.post("/tasks", json={"type": "fax"}, headers=caller.headers), 422, "unknown_task_type"
    )
    assert set(error["details"]["valid_types"]) == {  # type: ignore[index]
        "check_eligibility",
        "submit_claim",
        "submit_prior_authorization",
        "submit_appeal",
        "check_claim_status",
        "check_authorization_status",
    }


@pytest.mark.parametrize(
    ("files", "status", "code"),
    [
        ([("files", ("evil.pdf", b"MZ\x90\x00binary", "application/pdf"))], 415, "unsupported_media_type"),
        ([("files", ("big.pdf", b"%PDF-" + b"0" * (2 * 1024 * 1024), "application/pdf"))], 413, "too_large"),
        ([("files", (f"f{i}.txt", b"ok", "text/plain")) for i in range(4)], 413, "too_large"),
        (
            [
                ("files", ("ok.txt", b"fine", "text/plain")),
                ("files", ("bad.bin", b"\x00\x01\x02", "application/octet-stream")),
            ],
            415,
            "unsupported_media_type",
        ),
    ],
)
def test_refused_uploads_store_nothing(
    settings: object, tmp_path: Path, caller: Caller, files: list[object], status: int, code: str
) -> None:
    from runner.api.app import create_app
    from runner.core.system import build

    small = settings.model_copy(update={"max_file_bytes": 1024 * 1024, "max_files": 3})  # type: ignore[attr-defined]
    core = build(small)
    try:
        with TestClient(create_app(core), raise_server_exceptions=False) as client:
            response = client.post(
                "/tasks",
                data={"type": "submit_appeal", "data": "member_id: 1"},
                files=files,
                headers=caller.headers,
            )
            assert_error(response, status, code)
        assert count_tasks(core) == 0
        assert count_files_on_disk(core) == 0
    finally:
        core.close()


def test_injection_looking_text_is_just_text(api: TestClient, caller: Caller) -> None:
    data = "member_id: 1'; DROP TABLE tasks; --\npatient: {{ 7*7 }} <script>alert(1)</script>\nDOB: {% raw %}"
    response = api.post("/tasks", json={"type": "check_eligibility", "data": data}, headers=caller.headers)
    assert response.status_code == 200, response.text
    task = response.json()
    assert "49" not in task["instructions"]
    assert api.get("/tasks", headers=caller.headers).json()["data"][0]["id"] == task["id"]


# -- reads, isolation, pagination ------------------------------------------------------------


def test_other_accounts_task_is_not_found(api: TestClient, caller: Caller, other_caller: Caller) -> None:
    task = api.post("/tasks", json=SERENE_EXAMPLE, headers=caller.headers).json()
    for method, path in [
        ("GET", f"/tasks/{task['id']}"),
        ("POST", f"/tasks/{task['id']}/cancel"),
        ("POST", f"/tasks/{task['id']}/input"),
        ("GET", f"/tasks/{task['id']}/files/x"),
    ]:
        kwargs = {"json": {"data": "x: y"}} if path.endswith("input") else {}
        assert_error(api.request(method, path, headers=other_caller.headers, **kwargs), 404, "not_found")  # type: ignore[arg-type]
    assert api.get("/tasks", headers=other_caller.headers).json()["data"] == []


def test_list_newest_first_with_cursor_and_filters(api: TestClient, caller: Caller) -> None:
    ids = []
    for i in range(5):
        task_type = "check_eligibility" if i % 2 == 0 else "submit_claim"
        data = eligibility_data() if task_type == "check_eligibility" else SERENE_EXAMPLE["data"]
        ids.append(
            api.post("/tasks", json={"type": task_type, "data": data}, headers=caller.headers).json()["id"]
        )
    first = api.get("/tasks?limit=2", headers=caller.headers).json()
    assert [t["id"] for t in first["data"]] == ids[::-1][:2]
    second = api.get(f"/tasks?limit=2&cursor={first['next_cursor']}", headers=caller.headers).json()
    third = api.get(f"/tasks?limit=2&cursor={second['next_cursor']}", headers=caller.headers).json()
    assert [t["id"] for t in second["data"] + third["data"]] == ids[::-1][2:]
    assert third["next_cursor"] is None
    claims = api.get("/tasks?type=submit_claim", headers=caller.headers).json()["data"]
    assert {t["id"] for t in claims} == {ids[1], ids[3]}
    waiting = api.get("/tasks?status=waiting_for_input", headers=caller.headers).json()["data"]
    assert {t["id"] for t in waiting} == {ids[1], ids[3]}
    assert api.get("/tasks?created_after=2999-01-01T00:00:00Z", headers=caller.headers).json()["data"] == []
    assert (
        len(api.get("/tasks?created_before=2999-01-01T00:00:00Z", headers=caller.headers).json()["data"]) == 5
    )
    assert_error(api.get("/tasks?status=done", headers=caller.headers), 422, "invalid_request")
    assert_error(api.get("/tasks?cursor=garbage!", headers=caller.headers), 422, "invalid_request")
    assert_error(api.get("/tasks?limit=1000", headers=caller.headers), 422, "invalid_request")


# -- idempotency -----------------------------------------------------------------------------


def test_idempotency_key(api: TestClient, caller: Caller, system: System) -> None:
    headers = {**caller.headers, "Idempotency-Key": "order-42"}
    first = api.post("/tasks", json=SERENE_EXAMPLE, headers=headers)
    again = api.post("/tasks", json=SERENE_EXAMPLE, headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    assert count_tasks(system) == 1
    different = api.post("/tasks", json={**SERENE_EXAMPLE, "data": "member_id: 2"}, headers=headers)
    error = assert_error(different, 409, "idempotency_conflict")
    assert "different request" in str(error["message"])
    assert error["details"] == {"task_id": first.json()["id"]}  # the id the client knows
    assert count_tasks(system) == 1


def test_idempotency_keys_are_per_account(api: TestClient, caller: Caller, other_caller: Caller) -> None:
    one = api.post("/tasks", json=SERENE_EXAMPLE, headers={**caller.headers, "Idempotency-Key": "k"}).json()
    two = api.post(
        "/tasks", json=SERENE_EXAMPLE, headers={**other_caller.headers, "Idempotency-Key": "k"}
    ).json()
    assert one["id"] != two["id"]


# -- input, review, cancel -------------------------------------------------------------------


def test_input_completes_a_waiting_task(api: TestClient, caller: Caller, system: System) -> None:
    data = eligibility_data()
    partial = "\n".join(
        line
        for line in data.splitlines()
        if not line.lower().startswith(("dob", "date of birth", "date_of_birth"))
    )
    task = api.post(
        "/tasks", json={"type": "check_eligibility", "data": partial}, headers=caller.headers
    ).json()
    assert task["status"] == "waiting_for_input"
    assert [p["field"] for p in task["problems"]] == ["date_of_birth"]
    still = api.post(
        f"/tasks/{task['id']}/input", json={"data": "DOB: 2999-01-01"}, headers=caller.headers
    ).json()
    assert still["status"] == "waiting_for_input"
    assert "date_of_birth" in [p["field"] for p in still["problems"]]
    done = api.post(f"/tasks/{task['id']}/input", json={"data": "DOB: 1980-02-29"}, headers=caller.headers)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "pending"
    assert done.json()["notes"] is None
    again = api.post(f"/tasks/{task['id']}/input", json={"data": "DOB: 1980-02-28"}, headers=caller.headers)
    assert_error(again, 409, "invalid_status")
    with session_scope(system.engine, readonly=True) as session:
        kinds = [
            e.kind
            for e in session.exec(
                select(TaskEvent)
                .where(TaskEvent.task_id == task_row(system, task["id"]).id)
                .order_by(TaskEvent.id)
            ).all()
        ]
    assert kinds[0] == "create" and kinds.count("input") == 3 - 1 and kinds[-1] == "supply input"


def test_review_only_in_pending_review(api: TestClient, caller: Caller, system: System) -> None:
    task = api.post("/tasks", json=SERENE_EXAMPLE, headers=caller.headers).json()
    error = assert_error(
        api.post(f"/tasks/{task['id']}/review", json={"decision": "approve"}, headers=caller.headers),
        409,
        "invalid_status",
    )
    assert "pending_review" in str(error["message"])
    assert_error(
        api.post(f"/tasks/{task['id']}/review", json={"decision": "maybe"}, headers=caller.headers),
        422,
        "invalid_request",
    )
    # Put the task at a review gate the way the worker will, then approve and reject.
    with session_scope(system.engine) as session:
        row = session.get(Task, task_row(system, task["id"]).id)
        assert row is not None
        row.status, row.review_step = "pending_review", "submit"
        session.add(row)
    approved = api.post(
        f"/tasks/{task['id']}/review", json={"decision": "approve", "notes": "ok"}, headers=caller.headers
    )
    assert approved.json()["status"] == "pending"
    with session_scope(system.engine) as session:
        row = session.get(Task, task_row(system, task["id"]).id)
        assert row is not None and row.approved_gates == ["submit"]
        row.status = "pending_review"
        session.add(row)
    rejected = api.post(
        f"/tasks/{task['id']}/review",
        json={"decision": "reject", "notes": "wrong payer"},
        headers=caller.headers,
    ).json()
    assert rejected["status"] == "failed"
    assert rejected["notes"] == "Rejected in review: wrong payer"
    assert rejected["failedAt"] is not None


def test_cancel(api: TestClient, caller: Caller) -> None:
    task = api.post("/tasks", json=SERENE_EXAMPLE, headers=caller.headers).json()
    cancelled = api.post(f"/tasks/{task['id']}/cancel", json={"reason": "sent twice"}, headers=caller.headers)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "failed"
    assert cancelled.json()["notes"] == "Cancelled: sent twice"
    error = assert_error(
        api.post(f"/tasks/{task['id']}/cancel", headers=caller.headers), 409, "invalid_status"
    )
    assert "already final" in str(error["message"])


def test_unknown_route_and_file(api: TestClient, caller: Caller) -> None:
    assert_error(api.get("/nope", headers=caller.headers), 404, "not_found")
    task = api.post("/tasks", json=SERENE_EXAMPLE, headers=caller.headers).json()
    assert_error(api.get(f"/tasks/{task['id']}/files/nope", headers=caller.headers), 404, "not_found")


def test_a_method_a_route_does_not_take_is_405_with_its_methods(api: TestClient, caller: Caller) -> None:
    response = api.delete("/tasks", headers=caller.headers)
    assert_error(response, 405, "method_not_allowed")
    assert set(response.headers["allow"].split(", ")) == {"GET", "POST"}  # RFC 9110 requires it


def test_file_rows_match_uploads(api: TestClient, caller: Caller, system: System) -> None:
    api.post(
        "/tasks",
        data={"type": "submit_appeal"},
        files=[("files", ("a.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 8, "image/png"))],
        headers=caller.headers,
    )
    with session_scope(system.engine, readonly=True) as session:
        rows = session.exec(select(TaskFile)).all()
    assert [(r.filename, r.content_type) for r in rows] == [("a.png", "image/png")]


def test_health_and_readiness(api: TestClient) -> None:
    assert api.get("/healthz").json() == {"status": "ok"}
    ready = api.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


def test_the_timeline_names_the_api_key_that_acted(api: TestClient, caller: Caller, system: System) -> None:
    task = api.post("/tasks", json=SERENE_EXAMPLE, headers=caller.headers).json()
    api.post(f"/tasks/{task['id']}/cancel", headers=caller.headers)
    with session_scope(system.engine, readonly=True) as session:
        actors = {
            e.actor
            for e in session.exec(
                select(TaskEvent).where(TaskEvent.task_id == task_row(system, task["id"]).id)
            ).all()
        }
    key_id = caller.api_key.removeprefix("sk_").split("_", 1)[0]
    assert actors == {f"api:{key_id}"}


def test_multipart_errors_are_413_or_422_as_documented(
    api: TestClient, caller: Caller, system: System
) -> None:
    too_many = [
        ("files", (f"f{n}.txt", b"x", "text/plain")) for n in range(system.upload_limits.max_files + 2)
    ]
    response = api.post("/tasks", data={"type": "check_eligibility"}, files=too_many, headers=caller.headers)
    assert response.status_code == 413, response.text
    fields = {f"extra{n}": "x" for n in range(20)}
    response = api.post(
        "/tasks",
        data={"type": "check_eligibility", **fields},
        files=[("files", ("a.txt", b"x", "text/plain"))],
        headers=caller.headers,
    )
    assert response.status_code == 413, response.text
    headers = {**caller.headers, "Content-Type": "multipart/form-data"}  # no boundary
    response = api.post("/tasks", content=b"--x\r\n", headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_request"
    assert api.get("/tasks", headers=caller.headers).json()["data"] == []  # nothing was stored


@pytest.mark.parametrize("body", [b"{bad", b"\xa7y\xb0\xd2\x9f\x81PT\xaa"], ids=["syntax", "not-utf8"])
@pytest.mark.parametrize("action", ["review", "cancel", "input"])
def test_malformed_json_on_an_action_is_a_422_that_says_so(
    api: TestClient, caller: Caller, action: str, body: bytes
) -> None:
    created = api.post(
        "/tasks", json={"type": "check_eligibility", "data": "member_id: 1"}, headers=caller.headers
    )
    headers = {**caller.headers, "Content-Type": "application/json"}
    response = api.post(f"/tasks/{created.json()['id']}/{action}", content=body, headers=headers)
    assert response.status_code == 422, response.text
    assert ("not valid JSON" if body == b"{bad" else "UTF-8") in response.json()["error"]["message"]
