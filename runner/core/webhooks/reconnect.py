"""The reconnect loop of the threads that tell dispatchers of other processes' commits.

The listener (PostgreSQL LISTEN) and the commit watcher (SQLite `PRAGMA data_version`) follow one
rule: open a connection, wake once for whatever was committed while nobody watched, watch until
the connection fails or the thread is asked to stop. A connection error is logged and the open is
retried after a delay, `retry_first` doubling to `retry_max`, back to `retry_first` once a
connection opens. An error after `stopping` is set ends the loop quietly; any other exception
ends it logged, and the dispatchers fall back to polling.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TypeVar

C = TypeVar("C")  # a connection


@dataclass(frozen=True)
class Reconnect:
    """What a watching thread retries (`errors`), how long it waits, and what it logs."""

    errors: tuple[type[Exception], ...]
    log: logging.Logger
    lost: str  # logged at each retryable error
    failed: str  # logged when anything else ends the loop
    retry_first: float = 0.5
    retry_max: float = 30.0

    def run(
        self,
        connect: Callable[[], AbstractContextManager[C]],
        watch: Callable[[C], None],
        *,
        on_reopen: Callable[[], None],
        stopping: threading.Event,
        opened: AbstractContextManager[C] | None = None,
    ) -> None:
        """Until `stopping` is set: `watch` a connection from `connect()`, after `on_reopen()`.

        `opened` is a connection opened before the thread started (so that nothing committed
        after `start()` is missed): it is watched first, without the wake."""
        delay = self.retry_first
        while not stopping.is_set():
            try:
                fresh = opened is None
                session = connect() if opened is None else opened
                opened = None
                with session as connection:
                    delay = self.retry_first
                    if fresh:
                        on_reopen()  # whatever was committed while nobody watched
                    watch(connection)
            except self.errors as exc:
                if stopping.is_set():
                    return
                self.log.warning(self.lost, extra={"error": type(exc).__name__, "retry_in_s": delay})
                stopping.wait(delay)
                delay = min(delay * 2, self.retry_max)
            except Exception:
                self.log.exception(self.failed)
                return
