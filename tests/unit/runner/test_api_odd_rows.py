"""A stored row with odd values (written before the JSON limits, or by a future bug) never makes
the task API answer 500: the task is shown, listed, cancelled and announced (issue 15, item 2)."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlmodel import select

from runner.core.db import session_scope
from runner.core.system import System
from runner.core.tables import WebhookDelivery
from sops.jsonlimits import MAX_DEPTH, TOO_DEEP
from tests.support.poison import poison_row
from tests.unit.runner.callers import Caller


def depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


def test_a_poison_row_is_shown_listed_and_cancelled(api: TestClient, caller: Caller, system: System) -> None:
    account = system.accounts.find(caller.account_id)
    task = poison_row(system, account)

    shown = api.get(f"/tasks/{task.public_id}", headers=caller.headers)
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert depth(body["fields"]) == MAX_DEPTH and TOO_DEEP in json.dumps(body["fields"], ensure_ascii=False)
    assert body["fields"]["foo"] == [{"a": 1}, 5]
    assert {"field": "", "message": "a problem without a field"} in body["problems"]

    listed = api.get("/tasks", headers=caller.headers)
    assert listed.status_code == 200, listed.text
    assert [t["id"] for t in listed.json()["data"]] == [task.public_id]

    cancelled = api.post(f"/tasks/{task.public_id}/cancel", json={"reason": "poison"}, headers=caller.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "failed"
    with session_scope(system.engine, readonly=True) as session:
        [delivery] = session.exec(select(WebhookDelivery).where(WebhookDelivery.task_id == task.id)).all()
    assert delivery.payload["data"]["status"] == "failed"
    deliveries = api.get("/webhooks/deliveries", headers=caller.headers)
    assert deliveries.status_code == 200, deliveries.text
