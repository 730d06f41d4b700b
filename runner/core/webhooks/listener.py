"""PostgreSQL LISTEN on a dedicated connection: a NOTIFY from any process wakes a dispatcher.

The transaction that makes a delivery due sends `pg_notify` (wakeup.py), delivered on commit
only. The listener runs in its own thread on an autocommit connection outside the engine's pool
(TCP keepalives on, so a silently dead peer is noticed), and calls `on_notify` for each batch of
notifications, except those whose payload is `ignore` (sent by this process: its own bell has
already woken its dispatchers). When the connection drops it reconnects with a backoff (0.5 s
doubling to 30 s), and calls `on_notify` once after every (re)connect: a delivery committed while
nobody listened is found by that round (reconnect.py, the commit watcher's rule too). The
dispatcher's poll stays the fallback.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import sqlalchemy as sa

from runner.core.webhooks.reconnect import Reconnect
from runner.core.webhooks.wakeup import CHANNEL

log = logging.getLogger(__name__)

APPLICATION_NAME = "sopwright-webhooks-listener"
Connect = Callable[[], psycopg.Connection[Any]]
_KEEPALIVES = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3}


def connector(engine: sa.Engine) -> Connect:
    """Connections to the engine's database, made with the engine's own arguments, in autocommit."""
    args, params = engine.dialect.create_connect_args(engine.url)
    params = {"application_name": APPLICATION_NAME, "connect_timeout": 10, **_KEEPALIVES, **params}

    def connect() -> psycopg.Connection[Any]:
        return psycopg.connect(*args, **params, autocommit=True)

    return connect


class Listener:
    """`LISTEN channel` in a thread from `start()` to `stop()`; `on_notify()` for each wake-up."""

    def __init__(
        self,
        connect: Connect,
        on_notify: Callable[[], None],
        *,
        channel: str = CHANNEL,
        ignore: str | None = None,
        retry_first: float = 0.5,
        retry_max: float = 30.0,
        check_every: float = 60.0,
    ) -> None:
        self._connect = connect
        self._on_notify = on_notify
        self._channel = channel
        self._ignore = ignore  # a payload that needs no wake-up (this process's bell already rang)
        self._reconnect = Reconnect(
            (psycopg.Error, OSError),
            log,
            lost="webhook listener: connection lost or refused; reconnecting",
            failed="webhook listener failed; dispatchers fall back to polling",
            retry_first=retry_first,
            retry_max=retry_max,
        )
        self._check_every = check_every  # idle seconds before a `SELECT 1` checks the connection
        self._stopping = threading.Event()
        self._poke_out, self._poke_in = socket.socketpair()  # wakes the select on stop()
        self._thread = threading.Thread(target=self._run, name="webhooks-listener", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop listening and close the connection; returns once the thread has ended."""
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._poke_in.send(b"x")
        if self._thread.is_alive():
            self._thread.join(timeout=15)
        self._poke_in.close()
        self._poke_out.close()

    def _run(self) -> None:
        self._reconnect.run(self._listening, self._listen, on_reopen=self._on_notify, stopping=self._stopping)

    @contextlib.contextmanager
    def _listening(self) -> Iterator[psycopg.Connection[Any]]:
        with self._connect() as connection:
            connection.execute(f"LISTEN {self._channel}")
            yield connection

    def _listen(self, connection: psycopg.Connection[Any]) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(connection.fileno(), selectors.EVENT_READ, "database")
            selector.register(self._poke_out, selectors.EVENT_READ, "stop")
            while not self._stopping.is_set():
                ready = selector.select(timeout=self._check_every)
                if any(key.data == "stop" for key, _ in ready):
                    return
                if not ready:
                    connection.execute("SELECT 1")  # raises if the connection died quietly
                # Also drains notifications that arrived during LISTEN or SELECT 1 (psycopg keeps
                # them aside); a closed connection raises here.
                payloads = [notify.payload for notify in connection.notifies(timeout=0)]
                if any(payload != self._ignore for payload in payloads):
                    self._on_notify()
