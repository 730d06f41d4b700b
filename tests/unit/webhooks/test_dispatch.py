"""The dispatcher against a real HTTP receiver on loopback, with a fake clock for the schedule."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook
from webhook_clinic import Clinic

from handlers.errors import PortalUnavailable
from runner.core.breaker import BreakerRules
from runner.core.db import session_scope
from runner.core.destinations import AddressGuard
from runner.core.portal_faults import verdict
from runner.core.portal_health import PortalHealthBook
from runner.core.public import task_json
from runner.core.queue import Lease
from runner.core.states import TaskStatus
from runner.core.system import System
from runner.core.tables import Account
from runner.core.tables.base import as_utc
from runner.core.webhooks.clock import FakeClock
from runner.core.webhooks.dispatcher import Dispatcher
from runner.core.webhooks.errors import EndpointDisabled
from runner.core.webhooks.receiver import Received, Receiver, Reply
from runner.core.webhooks.schedule import SVIX_DELAYS
from runner.core.webhooks.service import Webhooks


def signed_by(request: Received, secret: str) -> bool:
    """The official library's signature for this request's id, timestamp and body is among those sent
    (for requests stamped by a fake clock that moved past the library's 5-minute tolerance)."""
    expected = Webhook(secret).sign(
        request.webhook_id, datetime.fromtimestamp(request.timestamp, UTC), request.body.decode()
    )
    return expected in request.headers["webhook-signature"].split(" ")


def due_in(clinic: Clinic, delivery_id: str, clock: FakeClock) -> timedelta:
    at = as_utc(clinic.delivery(delivery_id).next_attempt_at)
    assert at is not None
    return at - clock()


def finished_delivery(clinic: Clinic, status: TaskStatus = TaskStatus.COMPLETED) -> tuple[str, str]:
    task_id = clinic.task()
    clinic.finish(task_id, status)
    return task_id, clinic.deliveries()[-1].id


def test_delivered_signed_and_shaped_like_serene(
    system: System, clinic: Clinic, receiver: Receiver, dispatcher: Dispatcher
) -> None:
    task_id, delivery_id = finished_delivery(clinic)
    assert dispatcher.run_once() == 1
    [request] = receiver.received
    envelope = request.verify(clinic.secret)  # the official library, real time
    assert list(envelope) == ["signature", "event", "created_at", "data"]
    assert envelope["event"] == "task_finished"
    assert envelope["data"] == task_json(*system.tasks.get(clinic.id, task_id))
    assert list(envelope["data"]) == list(task_json(*system.tasks.get(clinic.id, task_id)))  # same key order
    assert envelope["data"]["trajectory_id"] is None and "trajectory_id" in envelope["data"]
    assert request.webhook_id == delivery_id
    assert request.headers["content-type"] == "application/json"
    delivery = clinic.delivery(delivery_id)
    assert (delivery.status, delivery.attempts, delivery.lease_owner) == ("delivered", 1, None)
    [attempt] = clinic.attempts(delivery_id)
    assert (attempt.status_code, attempt.error, attempt.url) == (200, None, receiver.url)
    assert attempt.latency_ms is not None and attempt.latency_ms >= 0
    assert dispatcher.run_once() == 0


def test_three_500s_then_200_same_id_fresh_timestamps(
    clinic: Clinic, receiver: Receiver, dispatcher: Dispatcher, clock: FakeClock
) -> None:
    receiver.reply(Reply(500), Reply(500), Reply(500))
    _, delivery_id = finished_delivery(clinic)
    for _ in range(4):
        assert dispatcher.run_once() == 1
        if clinic.delivery(delivery_id).status == "pending":
            clock.advance(due_in(clinic, delivery_id, clock))
    requests = receiver.received
    assert len(requests) == 4
    assert {r.webhook_id for r in requests} == {delivery_id}
    timestamps = [r.timestamp for r in requests]
    assert timestamps == sorted(set(timestamps))  # a fresh timestamp on every attempt
    assert all(signed_by(r, clinic.secret) for r in requests)
    delivery = clinic.delivery(delivery_id)
    assert (delivery.status, delivery.attempts) == ("delivered", 4)
    assert [a.status_code for a in clinic.attempts(delivery_id)] == [500, 500, 500, 200]


def test_endpoint_down_for_hours_is_retried_on_schedule(
    clinic: Clinic, receiver: Receiver, dispatcher: Dispatcher, clock: FakeClock
) -> None:
    receiver.stop()  # connection refused from now on
    task_id, delivery_id = finished_delivery(clinic)
    for attempts_done in range(1, 6):
        assert dispatcher.run_once() == 1
        wait = due_in(clinic, delivery_id, clock)
        base = SVIX_DELAYS[attempts_done]
        assert base * 0.8 <= wait <= base * 1.2, (attempts_done, wait)
        clock.advance(wait - timedelta(seconds=1))
        assert dispatcher.run_once() == 0  # not before it is due
        clock.advance(timedelta(seconds=1))
    errors = [a.error or "" for a in clinic.attempts(delivery_id)]
    assert len(errors) == 5 and all("ConnectError" in e for e in errors)
    receiver.start()  # back on the same port
    assert dispatcher.run_once() == 1
    assert clinic.delivery(delivery_id).status == "delivered"
    assert len(receiver.received) == 1 and receiver.received[0].webhook_id == delivery_id
    assert clinic.task_status(task_id) == "completed"


def test_after_the_last_attempt_the_delivery_is_failed_and_the_task_untouched(
    clinic: Clinic, receiver: Receiver, dispatcher: Dispatcher, clock: FakeClock
) -> None:
    receiver.reply(default=Reply(500, b"boom"))
    task_id, delivery_id = finished_delivery(clinic, TaskStatus.COMPLETED_WITH_ISSUES)
    for _ in range(8):
        assert dispatcher.run_once() == 1
        if clinic.delivery(delivery_id).status == "pending":
            clock.advance(due_in(clinic, delivery_id, clock))
    delivery = clinic.delivery(delivery_id)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("failed", 8, "HTTP 500")
    assert delivery.next_attempt_at is None
    assert len(receiver.received) == 8
    assert clinic.task_status(task_id) == "completed_with_issues"
    clock.advance(timedelta(days=2))
    assert dispatcher.run_once() == 0


def test_410_disables_the_endpoint_until_the_url_is_set_again(
    system: System, clinic: Clinic, receiver: Receiver, dispatcher: Dispatcher, hooks: Webhooks
) -> None:
    receiver.reply(Reply(410))
    _, gone = finished_delivery(clinic)
    dispatcher.run_once()
    _, skipped = finished_delivery(clinic)
    dispatcher.run_once()
    assert (clinic.delivery(gone).status, clinic.delivery(skipped).status) == ("failed", "skipped")
    assert len(receiver.received) == 1
    assert "410" in (clinic.delivery(gone).last_error or "")
    assert "disabled" in (clinic.delivery(skipped).last_error or "")
    with session_scope(system.engine, readonly=True) as session:
        account = session.get(Account, clinic.id)
        assert account is not None and account.webhook_disabled_at is not None
    with pytest.raises(EndpointDisabled):
        hooks.redeliver(clinic.id, skipped)
    system.accounts.set_webhook_url(clinic.id, receiver.url)  # re-enables
    hooks.redeliver(clinic.id, skipped)
    dispatcher.run_once()
    assert clinic.delivery(skipped).status == "delivered"


def test_a_redirect_is_a_failure_and_is_not_followed(
    clinic: Clinic, receiver: Receiver, dispatcher: Dispatcher
) -> None:
    receiver.reply(Reply(301, headers={"Location": f"http://127.0.0.1:{receiver.port}/elsewhere"}))
    _, delivery_id = finished_delivery(clinic)
    dispatcher.run_once()
    assert [r.path for r in receiver.received] == ["/hooks"]
    delivery = clinic.delivery(delivery_id)
    assert delivery.status == "pending" and "redirects are not followed" in (delivery.last_error or "")
    assert clinic.attempts(delivery_id)[0].status_code == 301


def test_retry_after_is_honoured(
    clinic: Clinic, receiver: Receiver, dispatcher: Dispatcher, clock: FakeClock
) -> None:
    receiver.reply(Reply(429, headers={"Retry-After": "600"}))
    _, delivery_id = finished_delivery(clinic)
    dispatcher.run_once()
    assert due_in(clinic, delivery_id, clock) == timedelta(seconds=600)


def test_a_lost_lease_means_the_same_id_is_sent_again(
    clinic: Clinic, receiver: Receiver, hooks: Webhooks, clock: FakeClock
) -> None:
    """A dispatcher killed between the POST and the marking: at-least-once, same webhook-id."""
    first, second = hooks.dispatcher(name="first"), hooks.dispatcher(name="second")
    _, delivery_id = finished_delivery(clinic)
    [claimed] = hooks.store.claim(first.name, now=clock(), lease=timedelta(seconds=60), limit=10)
    sent = first.send(claimed)  # POSTed ... and the process dies before `settle`
    assert second.run_once() == 0  # the lease still holds
    clock.advance(timedelta(seconds=61))
    assert second.run_once() == 1
    assert [r.webhook_id for r in receiver.received] == [delivery_id, delivery_id]
    first.settle(sent)  # a late marking changes nothing but the log
    delivery = clinic.delivery(delivery_id)
    assert (delivery.status, delivery.attempts) == ("delivered", 1)
    assert len(clinic.attempts(delivery_id)) == 2


def test_concurrent_dispatchers_never_send_a_delivery_twice(
    clinic: Clinic, receiver: Receiver, hooks: Webhooks
) -> None:
    ids = {finished_delivery(clinic)[1] for _ in range(24)}
    dispatchers = [hooks.dispatcher(name=f"d{i}", batch=3) for i in range(4)]
    start = threading.Barrier(len(dispatchers))
    errors: list[BaseException] = []

    def drain(dispatcher: Dispatcher) -> None:
        try:
            start.wait()
            while dispatcher.run_once():
                pass
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=drain, args=(d,)) for d in dispatchers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    sent = [r.webhook_id for r in receiver.received]
    assert sorted(sent) == sorted(ids)  # each exactly once
    assert {clinic.delivery(i).status for i in ids} == {"delivered"}


def test_rotation_signs_with_both_secrets_during_the_overlap_then_only_the_new(
    system: System,
    clinic: Clinic,
    receiver: Receiver,
    dispatcher: Dispatcher,
    hooks: Webhooks,
    clock: FakeClock,
) -> None:
    old = clinic.secret
    new = hooks.rotate_secret(clinic.id, overlap=timedelta(hours=24))
    assert new.startswith("whsec_") and new != old
    finished_delivery(clinic)
    dispatcher.run_once()
    during = receiver.received[-1]
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    during.verify(old)
    during.verify(new)
    clock.advance(timedelta(hours=25))
    finished_delivery(clinic)
    dispatcher.run_once()
    after = receiver.received[-1]
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    assert signed_by(after, new) and not signed_by(after, old)


def test_the_connection_goes_to_the_checked_address_with_the_host_name_kept(
    system: System, receiver: Receiver, clock: FakeClock
) -> None:
    lookups: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"] if len(lookups) == 1 else ["10.0.0.1"]  # DNS rebinding after the check

    guard = AddressGuard(["hooks.example.test"], resolver=resolver)
    hooks = Webhooks(system.engine, system.accounts, guard, timeout=15.0, clock=clock)
    clinic = Clinic(system, "Pinned", f"http://hooks.example.test:{receiver.port}/hooks", clock)
    finished_delivery(clinic)
    assert hooks.dispatcher().run_once() == 1
    [request] = receiver.received
    assert request.headers["host"] == f"hooks.example.test:{receiver.port}"
    assert lookups == ["hooks.example.test"]  # resolved once, then pinned


def test_an_internal_url_is_refused_at_delivery_too(
    system: System, clinic: Clinic, receiver: Receiver, dispatcher: Dispatcher
) -> None:
    with session_scope(system.engine) as session:  # as if the URL predates the guard
        account = session.get(Account, clinic.id)
        assert account is not None
        account.webhook_url = "http://169.254.169.254/latest/meta-data/"
        session.add(account)
    _, delivery_id = finished_delivery(clinic)
    dispatcher.run_once()
    [attempt] = clinic.attempts(delivery_id)
    assert attempt.status_code is None and "link-local" in (attempt.error or "")
    assert receiver.received == []


def test_the_response_snippet_is_truncated_and_never_echoes_the_task(
    clinic: Clinic, receiver: Receiver, dispatcher: Dispatcher
) -> None:
    receiver.reply(Reply(400, b"bad member MBR77123 for Jane; " + b"x" * 1000))
    _, delivery_id = finished_delivery(clinic)
    dispatcher.run_once()
    snippet = clinic.attempts(delivery_id)[0].response_snippet or ""
    assert "MBR77123" not in snippet and "[redacted]" in snippet
    assert len(snippet) <= 200


@pytest.mark.parametrize("subscribed", [False, True])
def test_a_skipped_delivery_without_url_is_never_sent(
    system: System, receiver: Receiver, dispatcher: Dispatcher, clock: FakeClock, subscribed: bool
) -> None:
    bare = Clinic(system, "Bare", None, clock)
    if subscribed:
        system.webhooks.set_events(bare.id, ["task_waiting_for_input"])
        bare.finish(bare.task(), TaskStatus.WAITING_FOR_INPUT)
    bare.finish(bare.task(), TaskStatus.FAILED)
    assert dispatcher.run_once() == 0
    assert {d.status for d in bare.deliveries()} == {"skipped"}


def test_a_delivery_that_cannot_be_signed_counts_as_a_failed_attempt(
    system: System, clinic: Clinic, receiver: Receiver, dispatcher: Dispatcher, clock: FakeClock
) -> None:
    with session_scope(system.engine) as session:
        account = session.get(Account, clinic.id)
        assert account is not None
        account.webhook_secret_enc = "v1:AAAA"  # undecryptable
        session.add(account)
    _, delivery_id = finished_delivery(clinic)
    assert dispatcher.run_once() == 1
    delivery = clinic.delivery(delivery_id)
    assert delivery.status == "pending" and delivery.lease_owner is None
    assert "DecryptionFailed" in (delivery.last_error or "")
    assert receiver.received == []


def test_in_background_dispatches_until_the_block_ends(system: System, receiver: Receiver) -> None:
    clinic = Clinic(system, "Background Clinic", receiver.url)
    dispatcher = system.webhooks.dispatcher(poll_interval=0.02)
    with dispatcher.in_background() as thread:
        assert thread.is_alive()
        _, delivery_id = finished_delivery(clinic)
        [request] = receiver.wait_for(1)
        request.verify(clinic.secret)
    assert not thread.is_alive()
    assert request.webhook_id == delivery_id


def test_portal_down_is_dispatched_signed_like_any_event(
    system: System, clinic: Clinic, receiver: Receiver, dispatcher: Dispatcher, clock: FakeClock
) -> None:
    system.webhooks.set_events(clinic.id, ["portal_down"])
    system.credentials.add(
        clinic.id,
        payer="acme",
        url="http://127.0.0.1:8123/acme",
        username="b",
        password="p",
        totp_secret=None,
    )
    rules = BreakerRules(threshold=1, backoff_seconds=60, alert_after_seconds=0)
    book = PortalHealthBook(system.engine, rules, clock=clock)
    task_id = clinic.task()
    with session_scope(system.engine) as session:
        held = book.record(
            session,
            "127.0.0.1:8123",
            Lease(task_id, "w", 0),
            verdict(PortalUnavailable("The Acme portal is down.")),
        )
    assert held is not None
    assert dispatcher.run_once() == 1
    [request] = receiver.received
    envelope = request.verify(clinic.secret)
    assert envelope["event"] == "portal_down"
    assert envelope["data"]["portal"] == "127.0.0.1:8123" and envelope["data"]["payers"] == ["acme"]
    assert envelope["data"]["last_fault"] == "The Acme portal is down."
