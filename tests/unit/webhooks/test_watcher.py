"""On SQLite, a dispatcher hears of another process's commit through `PRAGMA data_version`
(watcher.py), not at its next poll.

Every dispatcher here polls once a minute and every wait is 30 s at most: a test can only pass
through the watcher, however loaded the machine.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from webhook_clinic import Clinic

from runner.core.settings import Settings
from runner.core.states import TaskStatus
from runner.core.system import System, build
from runner.core.webhooks import watcher
from runner.core.webhooks.receiver import Receiver
from runner.core.webhooks.service import PENDING_PROBE
from runner.core.webhooks.watcher import CommitWatcher, connector

POLL = 60.0  # seconds: longer than any wait below, so polling never rescues a test
WAIT = 30.0  # seconds: generous, for a loaded machine
on_sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def other_process(settings: Settings) -> Iterator[System]:
    """Another wiring of the same database (its own engine, connections and bell), as another
    process has: to SQLite, its commits are another connection's."""
    other = build(settings)
    yield other
    other.close()


class Calls:
    """Counts `on_change` calls; waits for a count."""

    def __init__(self) -> None:
        self.count = 0
        self._changed = threading.Condition()

    def __call__(self) -> None:
        with self._changed:
            self.count += 1
            self._changed.notify_all()

    def wait_for(self, count: int) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: self.count >= count, timeout=WAIT), f"{self.count} calls"


def watchers() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "webhooks-watcher"]


def sqlite_path(system: System) -> Path:
    database = system.engine.url.database
    assert database
    return Path(database)


@on_sqlite_only
def test_a_final_state_committed_by_another_process_wakes_the_dispatcher(
    system: System, other_process: System, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    clinic = Clinic(other_process, "Far Clinic", receiver.url)
    task_id = clinic.task()
    woken = threading.Event()
    system.webhooks.wakeup.subscribe(woken)
    idle = threading.Event()
    next_due = system.webhooks.store.next_due

    def marking_idle() -> datetime | None:
        due = next_due()
        idle.set()  # the dispatcher asks right before it waits
        return due

    monkeypatch.setattr(system.webhooks.store, "next_due", marking_idle)
    # The service's own dispatcher (as serve, worker and `webhooks dispatch` run it): its bell
    # never hears the other engine's commit, its poll is a minute away; only the watcher is left.
    dispatcher = system.webhooks.dispatcher(name="near", poll_interval=POLL)
    with dispatcher.in_background():
        assert idle.wait(WAIT), "the dispatcher never went idle"
        clinic.finish(task_id, TaskStatus.FAILED)
        [request] = receiver.wait_for(1, timeout=WAIT)
    assert request.webhook_id == clinic.deliveries()[-1].id
    assert not woken.is_set()  # this process's bell did not ring: the watcher woke it


@on_sqlite_only
def test_a_commit_from_a_separate_os_process_is_seen(system: System) -> None:
    connect = connector(system.engine)
    assert connect is not None
    calls = Calls()
    watching = CommitWatcher(connect, calls, interval=0.01)
    watching.start()
    try:
        # A real other process (the stdlib's sqlite3 only), committing a write to any table.
        script = (
            "import sqlite3, sys\n"
            "c = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)\n"
            "c.execute('CREATE TABLE scratch (x)')\n"
        )
        subprocess.run([sys.executable, "-c", script, str(sqlite_path(system))], check=True, timeout=WAIT)
        calls.wait_for(1)
    finally:
        watching.stop()


class Probing(sqlite3.Connection):
    """A watcher's connection that counts the probes it runs."""

    probes = 0
    ran = threading.Condition()

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:  # type: ignore[override]
        cursor = super().execute(sql, *args)
        if sql == PENDING_PROBE:
            with Probing.ran:
                Probing.probes += 1
                Probing.ran.notify_all()
        return cursor

    @classmethod
    def wait_for(cls, count: int) -> None:
        with cls.ran:
            assert cls.ran.wait_for(lambda: cls.probes >= count, timeout=WAIT), f"{cls.probes} probes"


@on_sqlite_only
def test_a_commit_that_leaves_no_delivery_pending_wakes_no_one(
    system: System, other_process: System, receiver: Receiver
) -> None:
    """A busy worker's own commits (steps, heartbeats) change the version for its own watcher:
    the probe, not a dispatcher's round, answers them."""
    path = sqlite_path(system)
    Probing.probes = 0
    calls = Calls()
    watching = CommitWatcher(
        lambda: sqlite3.connect(path, isolation_level=None, check_same_thread=False, factory=Probing),
        calls,
        interval=0.01,
        probe=PENDING_PROBE,
    )
    watching.start()
    try:
        clinic = Clinic(other_process, "Busy Clinic", receiver.url)  # commits; no delivery
        Probing.wait_for(1)
        assert calls.count == 0
        clinic.finish(clinic.task(), TaskStatus.FAILED)  # a delivery, pending until sent
        calls.wait_for(1)
    finally:
        watching.stop()


@on_sqlite_only
def test_reads_and_its_own_connection_change_nothing(system: System) -> None:
    """The version moves on another connection's commit only: an idle database wakes no one."""
    connect = connector(system.engine)
    assert connect is not None
    mine = connect()
    try:
        seen = watcher.data_version(mine)
        with system.engine.connect() as connection:
            connection.execute(sa.text("SELECT count(*) FROM webhook_deliveries")).all()
        mine.execute("CREATE TABLE scratch (x)")  # this connection's own commit
        assert watcher.data_version(mine) == seen
        with system.engine.begin() as connection:
            connection.execute(sa.text("CREATE TABLE other_scratch (x)"))
        assert watcher.data_version(mine) != seen
    finally:
        mine.close()


@on_sqlite_only
def test_the_watcher_reopens_after_an_error_and_stops(system: System) -> None:
    real = connector(system.engine)
    assert real is not None
    attempts: list[int] = []

    def refused_once() -> sqlite3.Connection:
        attempts.append(1)
        if len(attempts) == 1:
            raise sqlite3.OperationalError("unable to open database file (test)")
        return real()

    calls = Calls()
    watching = CommitWatcher(refused_once, calls, interval=0.01, retry_first=0.05)
    watching.start()
    try:
        calls.wait_for(1)  # opened on the second attempt: one look for what it may have missed
        with system.engine.begin() as connection:
            connection.execute(sa.text("CREATE TABLE scratch (x)"))
        calls.wait_for(2)
    finally:
        watching.stop()
    assert len(attempts) == 2
    assert watchers() == []


def test_stop_ends_the_thread_however_long_the_interval(tmp_path: Path) -> None:
    database = tmp_path / "watched.db"
    sqlite3.connect(database).close()
    watching = CommitWatcher(
        lambda: sqlite3.connect(database, check_same_thread=False), Calls(), interval=3600
    )
    watching.start()
    watching.stop()
    assert watchers() == []


def test_an_in_memory_database_is_not_watched() -> None:
    assert connector(sa.create_engine("sqlite://")) is None
    assert connector(sa.create_engine("sqlite:///:memory:")) is None
    assert connector(sa.create_engine("postgresql+psycopg://nobody@127.0.0.1/none")) is None
