"""SQLite has no NOTIFY: a dispatcher notices another process's commit by `PRAGMA data_version`.

On a dedicated connection (outside the engine's pool, never writing), `PRAGMA data_version`
changes whenever another connection (of any process) has committed to the database since the
last look. A thread looks every `interval` (50 ms by default) and calls `on_change` when it
changed; the dispatcher then runs a round, whose first step on SQLite is a read that takes no
write lock (`DeliveryStore.claim`). The dispatcher's poll stays the fallback.

Why `data_version` and not a stat of the `-wal` file (size, mtime_ns), measured on 2 vCPUs
(bench/README.md, "webhooks"): one look costs ~3.5 us of CPU against ~1.6 us for the stat, both
lost beside the thread's own wake-up (at 20 looks a second, either is ~0.1 ms of CPU a second),
so cost does not decide. Meaning does: `data_version` is SQLite's documented signal for exactly
this ("changes committed by any other connection"), in any journal mode; the stat depends on the
file system's timestamp granularity (a commit that rewrites the WAL from its start after a
checkpoint, within the same clock tick as the last look, leaves size and mtime unchanged) and on
SQLite's file layout (a TRUNCATE checkpoint, the WAL deleted by the last connection's close).

Any commit changes it, not only deliveries: a busy worker's own commits (its steps' rows, its
heartbeats) change it for its own watcher too, up to every look. So on a change the watcher first
asks its own connection a `probe` (the dispatcher's: is any delivery pending? an index look of a
few microseconds) and wakes the dispatcher only if the answer has a row; a round and its idle
wait took two ORM reads, about a quarter of a worker's Python CPU at 0 ms portal latency
(bench/README.md). Every change a dispatcher acts on leaves a pending delivery (a new one, a
redelivery); a probe that fails wakes it anyway. The version is read first in `start()`, in the
caller's thread, so a commit made after `start()` returns is never missed. On an error the
connection is reopened with a backoff (0.5 s doubling to 30 s) and `on_change` is called once after
every reopening (whatever was committed while nobody watched): reconnect.py, the listener's rule
too.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Callable

import sqlalchemy as sa

from runner.core.webhooks.reconnect import Reconnect

log = logging.getLogger(__name__)

Connect = Callable[[], sqlite3.Connection]
BUSY_TIMEOUT = 1.0  # seconds a look may wait on a lock: bounds how long `stop()` may take


def connector(engine: sa.Engine) -> Connect | None:
    """Connections to the engine's SQLite file, with its own arguments; None for an in-memory
    database (no other process can commit to it)."""
    database = engine.url.database or ""
    if engine.dialect.name != "sqlite" or database in ("", ":memory:") or "mode=memory" in database:
        return None
    args, params = engine.dialect.create_connect_args(engine.url)
    filename, uri = str(args[0]), bool(params.get("uri", False))  # `uri`: a `file:` URL

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(
            filename, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False, uri=uri
        )

    return connect


def data_version(connection: sqlite3.Connection) -> int:
    return int(connection.execute("PRAGMA data_version").fetchone()[0])


class CommitWatcher:
    """Looks at `PRAGMA data_version` every `interval` from `start()` to `stop()`; `on_change()`
    when another connection has committed since the last look (and `probe`, a query, if given,
    returns a row)."""

    def __init__(
        self,
        connect: Connect,
        on_change: Callable[[], None],
        *,
        interval: float = 0.05,
        probe: str | None = None,
        retry_first: float = 0.5,
        retry_max: float = 30.0,
    ) -> None:
        self._connect = connect
        self._on_change = on_change
        self._probe = probe
        self._interval = interval
        self._reconnect = Reconnect(
            (sqlite3.Error,),
            log,
            lost="webhook commit watcher: the database could not be read; retrying",
            failed="webhook commit watcher failed; dispatchers fall back to polling",
            retry_first=retry_first,
            retry_max=retry_max,
        )
        self._stopping = threading.Event()
        self._connection: sqlite3.Connection | None = None
        self._seen = 0
        self._thread = threading.Thread(target=self._run, name="webhooks-watcher", daemon=True)

    def start(self) -> None:
        """Read the version now (a later commit is then seen), and watch in a thread."""
        with contextlib.suppress(sqlite3.Error):  # the thread reports it and retries
            self._open()
        self._thread.start()

    def stop(self) -> None:
        """Stop watching and close the connection; returns once the thread has ended."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=15)
        self._close()

    def _open(self) -> sqlite3.Connection:
        connection = self._connect()
        try:
            self._seen = data_version(connection)
        except BaseException:
            connection.close()
            raise
        self._connection = connection
        return connection

    def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def _run(self) -> None:
        opened = self._connection  # by start(), in the caller's thread
        self._reconnect.run(
            lambda: contextlib.closing(self._open()),
            self._watch,
            on_reopen=self._on_change,
            stopping=self._stopping,
            opened=None if opened is None else contextlib.closing(opened),
        )

    def _watch(self, connection: sqlite3.Connection) -> None:
        while not self._stopping.wait(self._interval):
            version = data_version(connection)
            if version != self._seen:
                self._seen = version
                if self._worth_a_look(connection):
                    self._on_change()

    def _worth_a_look(self, connection: sqlite3.Connection) -> bool:
        if self._probe is None:
            return True
        try:
            return connection.execute(self._probe).fetchone() is not None
        except sqlite3.Error:  # e.g. locked past the busy timeout: let the dispatcher look
            return True
