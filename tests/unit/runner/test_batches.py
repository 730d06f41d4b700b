"""Batches through the real API on SQLite and PostgreSQL: rows checked one by one, refused rows
named, nothing half-created, counts, the results CSV, idempotency and the batch_finished event."""

from __future__ import annotations

import csv
import io
import json
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from runner.core.db import session_scope
from runner.core.system import System
from runner.core.tables import Batch, Task, WebhookDelivery
from tests.unit.runner.callers import Caller

HEADER = "member_id,patient,DOB,payer,provider_npi"


SURNAMES = ("Alder", "Birch", "Cedar", "Dogwood", "Elm", "Fir", "Gum", "Hazel", "Ivy", "Juniper")


def good_row(i: int) -> str:
    return f"3000{i:05d},Pat {SURNAMES[i % len(SURNAMES)]},1980-02-{1 + i % 28:02d},acme,2000000002"


def csv_file(rows: list[str], header: str = HEADER) -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode()


def post_csv(api: TestClient, caller: Caller, content: bytes, **fields: str) -> object:
    form = {name: (None, value) for name, value in {"type": "check_eligibility", **fields}.items()}
    return api.post(
        "/batches", files={"file": ("appointments.csv", content, "text/csv"), **form}, headers=caller.headers
    )


def counts_in_db(system: System) -> tuple[int, int]:
    with session_scope(system.engine, readonly=True) as session:
        return len(session.exec(select(Task)).all()), len(session.exec(select(Batch)).all())


def mixed_rows() -> Iterator[str]:
    for i in range(50):
        if i == 7:
            yield "300000007,Pat Seven,1990-13-45,acme,2000000002"  # no such date
        elif i == 19:
            yield "300000019,Pat Nineteen,1980-01-01,acme,1234567890"  # NPI fails its check digit
        elif i in (30, 31):
            yield ",Pat Missing,1980-01-01,acme,2000000002"  # no member id: waits for input
        else:
            yield good_row(i)


def test_a_csv_batch_creates_tasks_refuses_bad_rows_and_reports_them(
    api: TestClient, caller: Caller, system: System
) -> None:
    response = post_csv(api, caller, csv_file(list(mixed_rows())))
    assert response.status_code == 200, response.text
    batch = response.json()
    assert batch["rows"] == 50 and batch["created"] == 48 and batch["waiting_for_input"] == 2
    assert batch["priority"] == "batch" and batch["type"] == "check_eligibility"
    refused = {(r["row"], r["field"]) for r in batch["refused"]}
    assert refused == {(9, "date_of_birth"), (21, "provider_npi")}  # rows 9 and 21 of the file
    assert all(r["reason"] for r in batch["refused"])
    assert batch["counts"]["pending"] == 46 and batch["counts"]["waiting_for_input"] == 2
    assert batch["progress"] == 0 and batch["finishedAt"] is None

    with session_scope(system.engine, readonly=True) as session:
        tasks = session.exec(select(Task).where(Task.batch_id == batch["id"])).all()
    assert len(tasks) == 48 and {t.priority for t in tasks} == {"batch"}
    assert api.get(f"/batches/{batch['id']}", headers=caller.headers).json()["counts"] == batch["counts"]

    results = api.get(f"/batches/{batch['id']}/results.csv", headers=caller.headers)
    assert results.status_code == 200 and results.headers["content-type"].startswith("text/csv")
    records = list(csv.DictReader(io.StringIO(results.text)))
    assert len(records) == 50
    assert [int(r["row"]) for r in records[:48]] == sorted(n for n in range(2, 52) if n not in (9, 21))
    by_row = {int(r["row"]): r for r in records}
    assert by_row[9]["status"] == "refused" and "date_of_birth" in by_row[9]["notes"]
    assert by_row[32]["status"] == "waiting_for_input" and by_row[2]["status"] == "pending"
    assert by_row[2]["member_id"] == "300000000"
    shown = api.get(f"/tasks/{by_row[2]['task_id']}", headers=caller.headers).json()  # the integer id
    assert shown["id"] == int(by_row[2]["task_id"]) and shown["status"] == "pending"

    listed = api.get("/batches", headers=caller.headers).json()["data"]
    assert [b["id"] for b in listed] == [batch["id"]]


def test_another_accounts_batch_is_not_found(api: TestClient, caller: Caller, other_caller: Caller) -> None:
    batch = post_csv(api, caller, csv_file([good_row(1)])).json()
    assert api.get(f"/batches/{batch['id']}", headers=other_caller.headers).status_code == 404
    assert api.get(f"/batches/{batch['id']}/results.csv", headers=other_caller.headers).status_code == 404


@pytest.mark.parametrize("ref", ["0", "-1", str(2**63), "99999999999999999999999999"])
def test_ids_beyond_a_bigint_name_no_batch(api: TestClient, caller: Caller, ref: str) -> None:
    """A 404 like any unknown id, and a page cursor out of range lists all or nothing: never a 500
    (SQLite's driver cannot bind an integer beyond 64 bits)."""
    batch = post_csv(api, caller, csv_file([good_row(1)])).json()
    assert api.get(f"/batches/{ref}", headers=caller.headers).status_code == 404
    assert api.get(f"/batches/{ref}/results.csv", headers=caller.headers).status_code == 404
    listed = api.get("/batches", params={"before": ref}, headers=caller.headers)
    assert listed.status_code == 200
    expected = [batch["id"]] if int(ref) > 1 else []
    assert [b["id"] for b in listed.json()["data"]] == expected


def test_a_json_list_and_a_type_column(api: TestClient, caller: Caller) -> None:
    rows = [
        {"member_id": "300000001", "patient": "Pat One", "date_of_birth": "1980-01-01", "payer": "acme"},
        "member_id: 300000002\npatient: Pat Two\nDOB: 1980-01-02\npayer: acme",
        {"member_id": "300000003", "colour": "blue"},
        {"type": "submit_appeal", "member_id": "300000004"},
    ]
    response = api.post("/batches", json={"type": "check_eligibility", "rows": rows}, headers=caller.headers)
    assert response.status_code == 200, response.text
    batch = response.json()
    assert batch["created"] == 3 and batch["refused"] == [
        {"row": 3, "field": "", "reason": "unknown field 'colour'"}
    ]
    typed = csv_file(["check_eligibility," + good_row(1), "send_fax," + good_row(2)], header="type," + HEADER)
    response = api.post("/batches", files={"file": ("t.csv", typed, "text/csv")}, headers=caller.headers)
    assert response.status_code == 200, response.text
    [refusal] = response.json()["refused"]
    assert refusal["row"] == 3 and refusal["field"] == "type" and "send_fax" in refusal["reason"]


BAD_FILES = {
    "unknown column": (csv_file([good_row(1)], header=HEADER + ",favourite_colour"), "favourite_colour"),
    "semicolons": (csv_file([good_row(1).replace(",", ";")], header=HEADER.replace(",", ";")), "semicolons"),
    "utf-16": ("\ufeff".encode("utf-16-le") + "member_id\r\n1\r\n".encode("utf-16-le"), "UTF-16"),
    "latin-1": (
        csv_file([good_row(1), "300000009,José Núñez,1980-01-01,acme,2000000002"]).replace(
            "José Núñez".encode(), "José Núñez".encode("latin-1")
        ),
        "line 3",
    ),
    "duplicate headers": (
        csv_file([good_row(1) + ",1980-01-01"], header=HEADER + ",date of birth"),
        "date of birth",
    ),
    "repeated header": (csv_file([good_row(1) + ",acme"], header=HEADER + ",payer"), "repeated"),
    "too many rows": (csv_file([good_row(i % 50) for i in range(10_001)]), "10,000"),
    "no data rows": (csv_file([]), "no data rows"),
    "no type": (b"", ""),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_bad_file_gets_one_clear_error_and_creates_nothing(
    api: TestClient, caller: Caller, system: System, case: str
) -> None:
    content, says = BAD_FILES[case]
    if case == "no type":
        response = api.post(
            "/batches", files={"file": ("a.csv", csv_file([good_row(1)]), "text/csv")}, headers=caller.headers
        )
        says = "No task type"
    else:
        response = post_csv(api, caller, content)
    assert response.status_code == 422, response.text
    assert says in response.json()["error"]["message"]
    assert counts_in_db(system) == (0, 0)


def test_a_utf8_byte_order_mark_is_accepted(api: TestClient, caller: Caller) -> None:
    response = post_csv(api, caller, b"\xef\xbb\xbf" + csv_file([good_row(1)]))
    assert response.status_code == 200 and response.json()["created"] == 1


def test_a_50_mb_file_is_refused_before_it_is_read(api: TestClient, caller: Caller, system: System) -> None:
    content = csv_file([good_row(1)]) + b"x" * (50 * 1024 * 1024)
    response = post_csv(api, caller, content)
    assert response.status_code == 413
    assert "MB" in response.json()["error"]["message"]
    assert counts_in_db(system) == (0, 0)


def test_the_same_idempotency_key_returns_the_same_batch(
    api: TestClient, caller: Caller, system: System
) -> None:
    content = csv_file([good_row(i) for i in range(5)])
    headers = {**caller.headers, "Idempotency-Key": "nightly-2026-12-04"}
    form = {"type": (None, "check_eligibility")}
    first = api.post("/batches", files={"file": ("a.csv", content, "text/csv"), **form}, headers=headers)
    again = api.post("/batches", files={"file": ("a.csv", content, "text/csv"), **form}, headers=headers)
    assert first.status_code == again.status_code == 200 and first.json()["id"] == again.json()["id"]
    assert counts_in_db(system) == (5, 1)
    other = api.post(
        "/batches", files={"file": ("a.csv", csv_file([good_row(9)]), "text/csv"), **form}, headers=headers
    )
    assert other.status_code == 409


def test_batch_finished_is_written_once_when_the_last_task_is_final(
    api: TestClient, caller: Caller, system: System
) -> None:
    batch = post_csv(api, caller, csv_file([good_row(i) for i in range(3)])).json()
    with session_scope(system.engine, readonly=True) as session:
        ids = [t.id for t in session.exec(select(Task).where(Task.batch_id == batch["id"])).all()]

    def finished_events() -> list[WebhookDelivery]:
        with session_scope(system.engine, readonly=True) as session:
            return list(
                session.exec(select(WebhookDelivery).where(WebhookDelivery.event == "batch_finished"))
            )

    for task_id in ids[:2]:
        assert api.post(f"/tasks/{task_id}/cancel", json={}, headers=caller.headers).status_code == 200
    assert finished_events() == []
    assert api.post(f"/tasks/{ids[2]}/cancel", json={}, headers=caller.headers).status_code == 200
    [event] = finished_events()
    assert event.task_id is None and event.payload["event"] == "batch_finished"
    data = event.payload["data"]
    assert data["id"] == batch["id"] and data["counts"]["failed"] == 3 and data["progress"] == 1.0
    shown = api.get(f"/batches/{batch['id']}", headers=caller.headers).json()
    assert shown["finishedAt"] is not None and shown["finished"] == 3


def cancel_after(barrier: threading.Barrier, system: System, account_id: str, task_id: str) -> None:
    barrier.wait()
    system.tasks.cancel(account_id, task_id, reason=None, actor="test")


def test_two_workers_finishing_the_last_two_tasks_at_once_write_one_batch_finished(
    api: TestClient, caller: Caller, system: System
) -> None:
    for round_ in range(5):
        batch = post_csv(api, caller, csv_file([good_row(2 * round_), good_row(2 * round_ + 1)])).json()
        with session_scope(system.engine, readonly=True) as session:
            ids = [t.id for t in session.exec(select(Task).where(Task.batch_id == batch["id"])).all()]
        barrier = threading.Barrier(2)
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(partial(cancel_after, barrier, system, caller.account_id), ids))
        with session_scope(system.engine, readonly=True) as session:
            events = session.exec(
                select(WebhookDelivery).where(WebhookDelivery.event == "batch_finished")
            ).all()
        assert len([e for e in events if e.payload["data"]["id"] == batch["id"]]) == 1


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


def test_a_batch_shows_the_accounts_integer_id_as_tasks_do_and_no_uuid(
    api: TestClient, caller: Caller, system: System
) -> None:
    batch = post_csv(api, caller, csv_file([good_row(1), good_row(2)])).json()
    task_id = int(next(csv.DictReader(io.StringIO(results_csv(api, caller, batch["id"]))))["task_id"])
    task = api.get(f"/tasks/{task_id}", headers=caller.headers).json()
    assert batch["accountId"] == task["accountId"] == caller.public_id and caller.public_id > 0
    assert api.get(f"/batches/{batch['id']}", headers=caller.headers).json()["accountId"] == caller.public_id
    [listed] = api.get("/batches", headers=caller.headers).json()["data"]
    assert listed["accountId"] == caller.public_id
    assert not UUID.search(results_csv(api, caller, batch["id"]))
    for shown in (batch, listed):
        assert not UUID.search(json.dumps(shown)), shown

    with session_scope(system.engine, readonly=True) as session:
        ids = [t.public_id for t in session.exec(select(Task).where(Task.batch_id == batch["id"])).all()]
    for public_id in ids:
        assert api.post(f"/tasks/{public_id}/cancel", json={}, headers=caller.headers).status_code == 200
    with session_scope(system.engine, readonly=True) as session:
        [event] = session.exec(select(WebhookDelivery).where(WebhookDelivery.event == "batch_finished")).all()
    assert event.payload["data"]["accountId"] == caller.public_id
    assert not UUID.search(json.dumps(event.payload["data"]))


def results_csv(api: TestClient, caller: Caller, batch_id: int) -> str:
    response = api.get(f"/batches/{batch_id}/results.csv", headers=caller.headers)
    assert response.status_code == 200, response.text
    return response.text


def test_rows_whose_payer_has_no_login_wait_for_input_at_create_as_post_tasks_does(
    api: TestClient, system: System
) -> None:
    created = system.accounts.create("Clinic Without Acme")
    caller = Caller(created.account.id, created.api_key, created.account.public_id)
    add_logins_for(system, caller.account_id, "beacon", serves=["Bluebird Health Plan"])
    no_login = good_row(1)  # payer acme: no login for it yet
    has_login = good_row(2).replace(",acme,", ",Bluebird Health Plan,")
    batch = post_csv(api, caller, csv_file([no_login, has_login])).json()
    assert (batch["created"], batch["waiting_for_input"], batch["refused"]) == (2, 1, [])
    assert batch["counts"]["waiting_for_input"] == 1 and batch["counts"]["pending"] == 1
    by_row = {int(r["row"]): r for r in csv.DictReader(io.StringIO(results_csv(api, caller, batch["id"])))}
    assert by_row[3]["status"] == "pending"
    waiting = api.get(f"/tasks/{by_row[2]['task_id']}", headers=caller.headers).json()
    assert waiting["status"] == "waiting_for_input" and waiting["attempts"] == 0
    assert [p["field"] for p in waiting["problems"]] == ["payer"]

    # The same row as one POST /tasks gets the same decision and the same notes.
    single = api.post(
        "/tasks",
        json={
            "type": "check_eligibility",
            "data": json.dumps(dict(zip(HEADER.split(","), no_login.split(","), strict=True))),
        },
        headers=caller.headers,
    ).json()
    assert single["status"] == "waiting_for_input" and single["notes"] == waiting["notes"]
    assert "no portal login is set up for 'acme'" in waiting["notes"]
    assert by_row[2]["notes"] == waiting["notes"]

    add_logins_for(system, caller.account_id, "acme")
    resumed = api.post(f"/tasks/{waiting['id']}/input", json={}, headers=caller.headers)
    assert resumed.status_code == 200 and resumed.json()["status"] == "pending", resumed.text


def add_logins_for(system: System, account_id: str, payer: str, serves: list[str] | None = None) -> None:
    system.credentials.add(
        account_id,
        payer=payer,
        url=f"http://127.0.0.1:9/{payer}",
        username="biller",
        password="not-used",
        totp_secret=None,
        serves=serves or [],
    )
