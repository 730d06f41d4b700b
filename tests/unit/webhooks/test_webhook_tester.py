"""POST /webhooks/test runs off the request thread pool, with a short timeout and a per-account
limit: a slow endpoint or a burst of tests cannot slow another account (issue 15, item 4)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import anyio.to_thread
import httpx
import pytest
from fastapi.testclient import TestClient
from webhook_clinic import Clinic

from runner.core.system import System
from runner.core.webhooks.receiver import Received, Receiver
from runner.core.webhooks.tester import WebhookTester


class Gate:
    """An endpoint that holds each request until released (a hung receiver)."""

    def __init__(self) -> None:
        self.arrived = threading.Semaphore(0)
        self.released = threading.Event()

    def __call__(self, _request: Received) -> None:
        self.arrived.release()
        self.released.wait(timeout=120)


@pytest.fixture
def gate() -> Gate:
    return Gate()


@pytest.fixture
def held(gate: Gate) -> Iterator[Receiver]:
    with Receiver(on_request=gate).running() as running:
        try:
            yield running
        finally:
            gate.released.set()


def in_thread(call: Callable[[], httpx.Response]) -> tuple[threading.Thread, list[httpx.Response]]:
    answers: list[httpx.Response] = []
    thread = threading.Thread(target=lambda: answers.append(call()))
    thread.start()
    return thread, answers


def test_test_events_are_limited_per_account(system: System, client: TestClient, receiver: Receiver) -> None:
    clinic = Clinic(system, "Eager Clinic", receiver.url)
    other = Clinic(system, "Calm Clinic", receiver.url)
    limit = system.webhook_tester.per_minute
    for _ in range(limit):
        assert client.post("/webhooks/test", headers=clinic.headers).status_code == 200
    refused = client.post("/webhooks/test", headers=clinic.headers)
    assert refused.status_code == 429, refused.text
    error = refused.json()["error"]
    assert error["code"] == "rate_limited"
    assert f"At most {limit} test events a minute" in error["message"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert len(receiver.received) == limit  # the refused one was not sent
    assert client.post("/webhooks/test", headers=other.headers).status_code == 200


def test_a_hung_endpoint_holds_neither_the_request_pool_nor_a_second_test(
    system: System, client: TestClient, held: Receiver, gate: Gate
) -> None:
    system.webhook_tester.close()
    system.webhook_tester = WebhookTester(system.webhooks, timeout=120)  # held until released
    clinics = [Clinic(system, f"Clinic {n}", held.url) for n in range(3)]
    bystander = Clinic(system, "Bystander", None)
    task_id = bystander.task()

    async def shrink_request_pool() -> None:
        anyio.to_thread.current_default_thread_limiter().total_tokens = 2

    assert client.portal is not None
    client.portal.call(shrink_request_pool)  # fewer request threads than tests in flight
    sends = [in_thread(lambda c=c: client.post("/webhooks/test", headers=c.headers)) for c in clinics]
    try:
        for _ in clinics:
            assert gate.arrived.acquire(timeout=60), "a test event never reached the endpoint"
        again = client.post("/webhooks/test", headers=clinics[0].headers)
        assert again.status_code == 429 and "being sent" in again.json()["error"]["message"]
        reader, answers = in_thread(lambda: client.get(f"/tasks/{task_id}", headers=bystander.headers))
        reader.join(timeout=60)
        assert answers and answers[0].status_code == 200, "another account waited on the test events"
    finally:
        gate.released.set()
        for thread, _ in sends:
            thread.join(timeout=60)
    assert all(answers[0].status_code == 200 and answers[0].json()["ok"] for _, answers in sends)


def test_a_hung_endpoint_times_out_quickly(system: System, client: TestClient, held: Receiver) -> None:
    system.webhook_tester.close()
    system.webhook_tester = WebhookTester(system.webhooks, timeout=0.5)
    clinic = Clinic(system, "Patient Clinic", held.url)
    result = client.post("/webhooks/test", headers=clinic.headers).json()
    assert (result["ok"], result["error"]) == (False, "timed out after 0.5 s")


def test_the_test_timeout_is_short(system: System) -> None:
    assert system.webhook_tester.timeout <= 5.0
