"""The webhook endpoints, account-scoped, on both backends, with a real receiver."""

from __future__ import annotations

from fastapi.testclient import TestClient
from webhook_clinic import Clinic

from runner.core.states import TaskStatus
from runner.core.system import System
from runner.core.webhooks.receiver import Receiver, Reply


def finish(clinic: Clinic) -> str:
    task_id = clinic.task()
    clinic.finish(task_id, TaskStatus.COMPLETED)
    return task_id


def test_the_delivery_log_filters_and_shows_attempts(
    system: System, client: TestClient, receiver: Receiver
) -> None:
    clinic = Clinic(system, "Log Clinic", receiver.url)
    receiver.reply(Reply(503, b"maintenance"))
    first, second = (clinic.public_task_id(finish(clinic)) for _ in range(2))
    system.webhooks.dispatcher().run_once()
    page = client.get("/webhooks/deliveries", headers=clinic.headers).json()
    assert {d["task_id"] for d in page["data"]} == {first, second} and page["next_cursor"] is None
    by_status = {d["status"]: d for d in page["data"]}
    assert set(by_status) == {"pending", "delivered"}
    failed_once = by_status["pending"]
    assert failed_once["last_error"] == "HTTP 503" and failed_once["next_attempt_at"].endswith("Z")
    [attempt] = failed_once["attempt_log"]
    assert (attempt["status_code"], attempt["response_snippet"]) == (503, "maintenance")
    only = client.get("/webhooks/deliveries", params={"task_id": first}, headers=clinic.headers).json()
    assert [d["task_id"] for d in only["data"]] == [first]
    delivered = client.get(
        "/webhooks/deliveries", params={"status": "delivered"}, headers=clinic.headers
    ).json()
    assert [d["status"] for d in delivered["data"]] == ["delivered"]
    bad = client.get("/webhooks/deliveries", params={"status": "lost"}, headers=clinic.headers)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"


def test_pages(system: System, client: TestClient, receiver: Receiver) -> None:
    clinic = Clinic(system, "Paging Clinic", receiver.url)
    tasks = {clinic.public_task_id(finish(clinic)) for _ in range(3)}
    first = client.get("/webhooks/deliveries", params={"limit": 2}, headers=clinic.headers).json()
    assert len(first["data"]) == 2 and first["next_cursor"]
    rest = client.get(
        "/webhooks/deliveries", params={"limit": 2, "cursor": first["next_cursor"]}, headers=clinic.headers
    ).json()
    assert {d["task_id"] for d in first["data"] + rest["data"]} == tasks and rest["next_cursor"] is None


def test_another_accounts_deliveries_are_not_found(
    system: System, client: TestClient, receiver: Receiver
) -> None:
    mine, theirs = Clinic(system, "Mine", receiver.url), Clinic(system, "Theirs", receiver.url)
    finish(theirs)
    [delivery] = theirs.deliveries()
    assert client.get("/webhooks/deliveries", headers=mine.headers).json()["data"] == []
    for response in (
        client.get(f"/webhooks/deliveries/{delivery.id}", headers=mine.headers),
        client.post(f"/webhooks/deliveries/{delivery.id}/redeliver", headers=mine.headers),
    ):
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert client.get("/webhooks/deliveries").status_code == 401


def test_redelivery_resends_with_the_same_id(system: System, client: TestClient, receiver: Receiver) -> None:
    clinic = Clinic(system, "Redeliver Clinic", receiver.url)
    finish(clinic)
    [delivery] = clinic.deliveries()
    dispatcher = system.webhooks.dispatcher()
    dispatcher.run_once()
    response = client.post(f"/webhooks/deliveries/{delivery.id}/redeliver", headers=clinic.headers)
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["attempts"]) == ("pending", 0)
    dispatcher.run_once()
    assert [r.webhook_id for r in receiver.received] == [delivery.id, delivery.id]
    shown = client.get(f"/webhooks/deliveries/{delivery.id}", headers=clinic.headers).json()
    assert shown["status"] == "delivered" and len(shown["attempt_log"]) == 2
    for request in receiver.received:
        request.verify(clinic.secret)


def test_redelivery_needs_a_url(system: System, client: TestClient) -> None:
    bare = Clinic(system, "Bare Clinic", None)
    finish(bare)
    [delivery] = bare.deliveries()
    response = client.post(f"/webhooks/deliveries/{delivery.id}/redeliver", headers=bare.headers)
    assert response.status_code == 409 and response.json()["error"]["code"] == "no_webhook_url"


def test_the_test_event_is_signed_sent_and_logged(
    system: System, client: TestClient, receiver: Receiver
) -> None:
    clinic = Clinic(system, "Test Clinic", receiver.url)
    response = client.post("/webhooks/test", headers=clinic.headers)
    assert response.status_code == 200
    result = response.json()
    assert (result["ok"], result["status_code"], result["error"]) == (True, 200, None)
    envelope = receiver.received[0].verify(clinic.secret)
    assert envelope["event"] == "webhook_test" and envelope["data"]["accountId"] == clinic.public_id
    assert result["delivery"]["id"] == receiver.received[0].webhook_id
    logged = client.get("/webhooks/deliveries", headers=clinic.headers).json()["data"]
    assert [(d["event"], d["status"]) for d in logged] == [("webhook_test", "delivered")]
    receiver.reply(Reply(500))
    failed = client.post("/webhooks/test", headers=clinic.headers).json()
    assert (failed["ok"], failed["status_code"], failed["error"]) == (False, 500, "HTTP 500")
    assert system.webhooks.dispatcher().run_once() == 0  # a test event is never retried


def test_the_test_event_needs_a_url(system: System, client: TestClient) -> None:
    bare = Clinic(system, "Bare Test Clinic", None)
    response = client.post("/webhooks/test", headers=bare.headers)
    assert response.status_code == 409 and "no webhook URL" in response.json()["error"]["message"]


def test_a_task_created_with_missing_data_emits_waiting_for_input_when_subscribed(
    system: System, client: TestClient, receiver: Receiver
) -> None:
    clinic = Clinic(system, "Subscribed Clinic", receiver.url)
    quiet = Clinic(system, "Quiet Clinic", receiver.url)
    system.webhooks.set_events(clinic.id, ["task_waiting_for_input"])
    for who in (clinic, quiet):
        created = client.post("/tasks", json={"type": "check_eligibility"}, headers=who.headers)
        assert created.status_code == 200 and created.json()["status"] == "waiting_for_input"
    assert quiet.deliveries() == []  # off by default: Serene receivers see only task_finished
    [delivery] = clinic.deliveries()
    assert delivery.event == "task_waiting_for_input"
    system.webhooks.dispatcher().run_once()
    envelope = receiver.received[0].verify(clinic.secret)
    assert envelope["event"] == "task_waiting_for_input"
    assert envelope["data"]["status"] == "waiting_for_input" and envelope["data"]["problems"]
    shown = client.get(f"/tasks/{envelope['data']['id']}", headers=clinic.headers).json()
    assert envelope["data"] == shown
