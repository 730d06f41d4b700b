"""The reconnect loop of the listener and the commit watcher (reconnect.py), with fakes: a
connection that fails when told, and a stop event that records its waits instead of sleeping."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from runner.core.webhooks.reconnect import Reconnect

WAIT = 30.0  # seconds: generous, for a loaded machine
LOST = "test watcher: connection lost; retrying"
FAILED = "test watcher failed; dispatchers fall back to polling"
log = logging.getLogger("tests.reconnect")


class Lost(Exception):
    """The error the loop retries."""


class Stopping(threading.Event):
    """Records each backoff wait and returns at once (not stopped, unless `stop_after` waits)."""

    def __init__(self, stop_after: int | None = None) -> None:
        super().__init__()
        self.waits: list[float] = []
        self._stop_after = stop_after

    def wait(self, timeout: float | None = None) -> bool:
        assert timeout is not None
        self.waits.append(timeout)
        if len(self.waits) == self._stop_after:
            self.set()
        return self.is_set()


class Database:
    """Opens connections (numbered from 1) or refuses them; remembers which are still open."""

    def __init__(self, refusals: int = 0) -> None:
        self.refusals = refusals
        self.opened = 0
        self.open_now: set[int] = set()

    @contextmanager
    def connection(self) -> Iterator[int]:
        if self.refusals:
            self.refusals -= 1
            raise Lost("refused")
        self.opened += 1
        number = self.opened
        self.open_now.add(number)
        try:
            yield number
        finally:
            self.open_now.discard(number)


def reconnect() -> Reconnect:
    return Reconnect((Lost,), log, lost=LOST, failed=FAILED, retry_first=0.5, retry_max=4.0)


def watching(script: dict[int, Callable[[], None]]) -> Callable[[int], None]:
    """A watch that runs `script[connection]` (it may raise or stop), then loses the connection."""

    def watch(connection: int) -> None:
        script.get(connection, lambda: None)()
        raise Lost("dropped")

    return watch


def test_the_delay_doubles_to_its_cap_and_each_retry_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    database, stopping = Database(refusals=6), Stopping()
    wakes: list[str] = []
    watch = watching({1: stopping.set})
    with caplog.at_level(logging.WARNING, logger=log.name):
        reconnect().run(database.connection, watch, on_reopen=lambda: wakes.append("wake"), stopping=stopping)
    assert stopping.waits == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert [(r.message, r.error, r.retry_in_s) for r in caplog.records] == [  # type: ignore[attr-defined]
        (LOST, "Lost", delay) for delay in stopping.waits
    ]
    assert (database.opened, wakes, database.open_now) == (1, ["wake"], set())


def test_a_connection_that_opens_resets_the_delay_and_wakes_once() -> None:
    database, stopping = Database(refusals=3), Stopping()
    wakes: list[int] = []
    watch = watching({1: lambda: None, 2: stopping.set})
    reconnect().run(
        database.connection, watch, on_reopen=lambda: wakes.append(database.opened), stopping=stopping
    )
    # Refused three times (0.5, 1, 2), connection 1 opens then drops: back to 0.5, not 4.
    assert stopping.waits == [0.5, 1.0, 2.0, 0.5]
    assert wakes == [1, 2]
    assert database.open_now == set()


def test_a_connection_opened_before_the_loop_is_watched_first_without_a_wake() -> None:
    database, stopping = Database(), Stopping()
    wakes: list[int] = []
    watched: list[int] = []

    def watch(connection: int) -> None:
        watched.append(connection)
        if len(watched) == 2:
            stopping.set()
        raise Lost("dropped")

    reconnect().run(
        database.connection,
        watch,
        on_reopen=lambda: wakes.append(database.opened),
        stopping=stopping,
        opened=database.connection(),
    )
    assert watched == [1, 2]
    assert wakes == [2]  # the reopening wakes, the first connection did not


def test_an_error_once_asked_to_stop_ends_the_loop_quietly(caplog: pytest.LogCaptureFixture) -> None:
    database, stopping = Database(), Stopping()
    with caplog.at_level(logging.WARNING, logger=log.name):
        reconnect().run(
            database.connection, watching({1: stopping.set}), on_reopen=lambda: None, stopping=stopping
        )
    assert (database.opened, stopping.waits, caplog.records) == (1, [], [])


def test_a_stop_during_the_backoff_opens_nothing_more() -> None:
    database, stopping = Database(refusals=5), Stopping(stop_after=2)
    reconnect().run(database.connection, watching({}), on_reopen=lambda: None, stopping=stopping)
    assert (stopping.waits, database.refusals, database.opened) == ([0.5, 1.0], 3, 0)


def test_stop_ends_a_long_backoff_at_once() -> None:
    """A real event: `set()` ends the wait of a thread that would otherwise retry in an hour."""
    stopping = threading.Event()
    waiting = Database(refusals=1_000)
    loop = Reconnect((Lost,), log, lost=LOST, failed=FAILED, retry_first=3600.0, retry_max=3600.0)
    thread = threading.Thread(
        target=loop.run,
        args=(waiting.connection, watching({})),
        kwargs={"on_reopen": lambda: None, "stopping": stopping},
    )
    thread.start()
    stopping.set()
    thread.join(timeout=WAIT)
    assert not thread.is_alive()
    assert waiting.refusals >= 999  # it tried at most once


def test_any_other_error_ends_the_loop_logged_and_closes_the_connection(
    caplog: pytest.LogCaptureFixture,
) -> None:
    database, stopping = Database(), Stopping()

    def broken_wake() -> None:
        raise RuntimeError("a bug")

    with caplog.at_level(logging.WARNING, logger=log.name):
        reconnect().run(database.connection, watching({}), on_reopen=broken_wake, stopping=stopping)
    [record] = caplog.records
    assert (record.message, record.levelno, record.exc_info is not None) == (FAILED, logging.ERROR, True)
    assert (database.opened, database.open_now, stopping.waits) == (1, set(), [])
