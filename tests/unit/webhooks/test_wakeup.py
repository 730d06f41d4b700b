"""Dispatchers send when a delivery is due, not at their next poll: a commit in this process rings
them, a NOTIFY from another process (PostgreSQL) wakes them, and a retry's due time ends their wait.

Every dispatcher here polls once a minute and every wait is 30 s at most: a test can only pass
through the path it is about, however loaded the machine.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import psycopg
import pytest
import sqlalchemy as sa
from webhook_clinic import Clinic

from runner.core.db import session_scope
from runner.core.settings import Settings
from runner.core.states import TaskStatus
from runner.core.system import System, build
from runner.core.tables import Task, utcnow
from runner.core.tables.base import as_utc
from runner.core.transitions import move
from runner.core.webhooks.dispatcher import Dispatcher, Listen
from runner.core.webhooks.listener import APPLICATION_NAME, Connect, Listener, connector
from runner.core.webhooks.receiver import Receiver, Reply
from runner.core.webhooks.schedule import RetrySchedule
from runner.core.webhooks.store import DeliveryStore
from runner.core.webhooks.wakeup import CHANNEL, Wakeup

POLL = 60.0  # seconds: longer than any wait below, so polling never rescues a test
WAIT = 30.0  # seconds: generous, for a loaded machine
on_postgres_only = pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


class Timeline:
    """Marks in the order they happened ("idle": a dispatcher is about to wait; "notified": a
    listener woke its dispatcher), and waiting for a pattern of them."""

    def __init__(self) -> None:
        self._marks: list[str] = []
        self._changed = threading.Condition()

    def mark(self, what: str) -> None:
        with self._changed:
            self._marks.append(what)
            self._changed.notify_all()

    def wait_for_idle_after(self, what: str, times: int = 1) -> None:
        """Until `what` was marked `times` times and the dispatcher went idle after the last one."""

        def seen() -> bool:
            indexes = [i for i, mark in enumerate(self._marks) if mark == what]
            return len(indexes) >= times and "idle" in self._marks[indexes[times - 1] :]

        with self._changed:
            assert self._changed.wait_for(seen, timeout=WAIT), f"no idle dispatcher after {what} x{times}"

    def wait_for_idle(self) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: "idle" in self._marks, timeout=WAIT), "never idle"


class WatchedStore(DeliveryStore):
    """The real store, marking the timeline when the dispatcher asks for the next due time: it
    does so right before it waits."""

    def __init__(self, engine: sa.Engine, timeline: Timeline) -> None:
        super().__init__(engine)
        self._timeline = timeline

    def next_due(self) -> datetime | None:
        due = super().next_due()
        self._timeline.mark("idle")
        return due


def watched(
    system: System,
    timeline: Timeline,
    *,
    wakeup: Wakeup | None = None,
    listen: Listen | None = None,
    schedule: RetrySchedule | None = None,
) -> Dispatcher:
    return Dispatcher(
        WatchedStore(system.engine, timeline),
        system.webhooks.sender,
        system.accounts,
        schedule=schedule,
        name="watched",
        poll_interval=POLL,
        wakeup=wakeup,
        listen=listen,
    )


def marking(connect: Connect, timeline: Timeline) -> Listen:
    """Listeners that mark the timeline before they wake their dispatcher."""

    def listen(wake: Callable[[], None]) -> Listener:
        def on_notify() -> None:
            timeline.mark("notified")
            wake()

        return Listener(connect, on_notify, retry_first=0.05)

    return listen


def finish_one(clinic: Clinic) -> str:
    task_id = clinic.task()
    clinic.finish(task_id, TaskStatus.FAILED)
    return clinic.deliveries()[-1].id


@pytest.fixture
def other_process(settings: Settings) -> Iterator[System]:
    """Another wiring of the same database (its own engine and bell), as another process has."""
    other = build(settings)
    yield other
    other.close()


def test_a_final_state_committed_in_this_process_wakes_the_dispatcher(
    system: System, receiver: Receiver
) -> None:
    clinic = Clinic(system, "Wake Clinic", receiver.url)
    timeline = Timeline()
    with watched(system, timeline, wakeup=system.webhooks.wakeup).in_background():
        timeline.wait_for_idle()
        delivery_id = finish_one(clinic)
        [request] = receiver.wait_for(1, timeout=WAIT)
    assert request.webhook_id == delivery_id


def test_a_redelivery_wakes_the_dispatcher(system: System, receiver: Receiver) -> None:
    clinic = Clinic(system, "Redelivery Clinic", receiver.url)
    delivery_id = finish_one(clinic)
    timeline = Timeline()
    with watched(system, timeline, wakeup=system.webhooks.wakeup).in_background():
        receiver.wait_for(1, timeout=WAIT)
        timeline.wait_for_idle()  # the round after the first send found nothing more
        system.webhooks.redeliver(clinic.id, delivery_id)
        requests = receiver.wait_for(2, timeout=WAIT)
    assert [r.webhook_id for r in requests] == [delivery_id, delivery_id]


def test_a_rolled_back_final_state_rings_nothing(system: System, receiver: Receiver) -> None:
    clinic = Clinic(system, "Rollback Clinic", receiver.url)
    task_id = clinic.task()
    woken = threading.Event()
    system.webhooks.wakeup.subscribe(woken)
    with pytest.raises(RuntimeError, match="rolled back"):
        fail_then_roll_back(system, task_id)
    assert not woken.is_set() and clinic.deliveries() == []
    clinic.finish(task_id, TaskStatus.FAILED)
    assert woken.is_set()


def fail_then_roll_back(system: System, task_id: str) -> None:
    with session_scope(system.engine) as session:
        task = session.get(Task, task_id)
        assert task is not None
        move(session, task, TaskStatus.FAILED, actor="test", action="finish")
        session.flush()  # the delivery row is written, then rolled back with the status
        raise RuntimeError("rolled back")


def test_a_retry_is_sent_when_due_not_at_the_next_poll(system: System, receiver: Receiver) -> None:
    receiver.reply(Reply(500))
    clinic = Clinic(system, "Retry Clinic", receiver.url)
    delivery_id = finish_one(clinic)
    schedule = RetrySchedule(delays=(timedelta(0), timedelta(seconds=1)), jitter=0)
    with watched(system, Timeline(), schedule=schedule).in_background():  # no bell: only the due time
        requests = receiver.wait_for(2, timeout=WAIT)
    assert [r.webhook_id for r in requests] == [delivery_id, delivery_id]
    assert clinic.delivery(delivery_id).status == "delivered"


def test_next_due_is_the_earliest_attempt_or_the_end_of_its_lease(system: System, receiver: Receiver) -> None:
    store = system.webhooks.store
    assert store.next_due() is None
    clinic = Clinic(system, "Due Clinic", receiver.url)
    delivery_id = finish_one(clinic)
    assert store.next_due() == as_utc(clinic.delivery(delivery_id).next_attempt_at)
    assert len(store.claim("elsewhere", now=utcnow(), lease=timedelta(minutes=5), limit=1)) == 1
    assert store.next_due() == as_utc(clinic.delivery(delivery_id).lease_expires_at)


# -- PostgreSQL: LISTEN/NOTIFY across processes ------------------------------------------------


@on_postgres_only
def test_a_notify_from_another_process_wakes_the_dispatcher(
    system: System, other_process: System, receiver: Receiver
) -> None:
    clinic = Clinic(other_process, "Far Clinic", receiver.url)
    timeline = Timeline()
    # No bell: only a NOTIFY can wake this dispatcher before its poll.
    dispatcher = watched(system, timeline, listen=marking(connector(system.engine), timeline))
    with dispatcher.in_background():
        timeline.wait_for_idle_after("notified")  # listening, and idle since
        delivery_id = finish_one(clinic)
        [request] = receiver.wait_for(1, timeout=WAIT)
    assert request.webhook_id == delivery_id


@on_postgres_only
def test_a_dropped_listen_connection_reconnects(
    system: System, other_process: System, receiver: Receiver
) -> None:
    clinic = Clinic(other_process, "Far Clinic", receiver.url)
    timeline = Timeline()
    dispatcher = watched(system, timeline, listen=marking(connector(system.engine), timeline))
    with dispatcher.in_background():
        timeline.wait_for_idle_after("notified")
        assert terminate_listeners(system.engine) == 1
        timeline.wait_for_idle_after("notified", times=2)  # connected again, and idle since
        delivery_id = finish_one(clinic)
        [request] = receiver.wait_for(1, timeout=WAIT)
    assert request.webhook_id == delivery_id


@on_postgres_only
def test_the_listener_retries_a_refused_connection_and_stops(system: System) -> None:
    real = connector(system.engine)
    attempts: list[int] = []

    def refused_once() -> psycopg.Connection[object]:
        attempts.append(1)
        if len(attempts) == 1:
            raise psycopg.OperationalError("connection refused (test)")
        return real()

    notified = threading.Semaphore(0)
    listener = Listener(refused_once, notified.release, retry_first=0.05)
    listener.start()
    try:
        assert notified.acquire(timeout=WAIT)  # connected on the second attempt
        with system.engine.begin() as connection:
            connection.execute(sa.select(sa.func.pg_notify(CHANNEL, "")))
        assert notified.acquire(timeout=WAIT)
    finally:
        listener.stop()
    assert len(attempts) == 2
    # Its connection is closed: the server ends the backend a moment after the client leaves.
    assert wait_until(lambda: listener_backends(system.engine) == 0)


def listener_backends(engine: sa.Engine) -> int:
    """How many backends of this database's webhook listeners the server still has."""
    with engine.begin() as connection:
        return int(
            connection.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE application_name = :name AND datname = current_database()"
                ),
                {"name": APPLICATION_NAME},
            ).scalar_one()
        )


def wait_until(condition: Callable[[], bool], timeout: float = WAIT) -> bool:
    """True as soon as `condition` holds; False if it still does not after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def terminate_listeners(engine: sa.Engine) -> int:
    """End the backends of this database's webhook listeners, as a failover or an admin would."""
    with engine.begin() as connection:
        ended = connection.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = :name AND datname = current_database()"
            ),
            {"name": APPLICATION_NAME},
        )
        return len(ended.all())


@on_postgres_only
def test_the_listener_ignores_what_its_own_process_announced(system: System) -> None:
    calls: list[int] = []
    called = threading.Condition()

    def on_notify() -> None:
        with called:
            calls.append(1)
            called.notify_all()

    def wait_for_calls(count: int) -> None:
        with called:
            assert called.wait_for(lambda: len(calls) >= count, timeout=WAIT), f"{len(calls)} calls"

    listener = Listener(connector(system.engine), on_notify, ignore=system.webhooks.wakeup.token)
    listener.start()
    try:
        wait_for_calls(1)  # connected
        # Twenty transactions of this process, then one of another: only the last one calls.
        for payload in [system.webhooks.wakeup.token] * 20 + ["another process"]:
            with system.engine.begin() as connection:
                connection.execute(sa.select(sa.func.pg_notify(CHANNEL, payload)))
        wait_for_calls(2)
    finally:
        listener.stop()
    assert len(calls) == 2
