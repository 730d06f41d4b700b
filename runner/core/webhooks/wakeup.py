"""Waking dispatchers when a delivery becomes due now, instead of letting it wait for their poll.

A transaction that makes a delivery due (a final state's outbox row, a redelivery) calls
`announce(session)`. Nothing happens unless it commits; then:

- on PostgreSQL, `pg_notify` (executed in the transaction, so delivered on commit only) reaches
  every dispatcher of every process listening on `CHANNEL` (listener.py);
- in this process, the `Wakeup` installed on the session's engine (`ring_on_commit`) rings after
  the commit, so a woken dispatcher always finds the row. On SQLite, dispatchers of other
  processes see the commit through `PRAGMA data_version` (watcher.py).

Dispatchers still poll as a fallback (a lost notification, a process without the engine's bell).
"""

from __future__ import annotations

import threading
import uuid
import weakref

import sqlalchemy as sa
from sqlalchemy import event
from sqlmodel import Session

CHANNEL = "sopwright_webhooks"
_OPTION = "sopwright_webhook_wakeup"  # an execution option of the engine: its Wakeup
_ANNOUNCED = "sopwright.webhooks.announced"
_LISTENING = "sopwright.webhooks.listening"


class Wakeup:
    """A bell for the dispatchers of one process: `ring()` sets the event of every subscriber."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: weakref.WeakSet[threading.Event] = weakref.WeakSet()
        # The payload of the NOTIFYs sent by commits that ring this bell: the listeners of its
        # own dispatchers ignore them (the bell already woke them).
        self.token = uuid.uuid4().hex

    def subscribe(self, woken: threading.Event) -> None:
        """Set `woken` on every later ring (held weakly: a dropped subscriber just goes away)."""
        with self._lock:
            self._subscribers.add(woken)

    def ring(self) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for woken in subscribers:
            woken.set()


def ring_on_commit(engine: sa.Engine, wakeup: Wakeup) -> None:
    """Ring `wakeup` after each commit, through `engine`, of a transaction that announced a delivery."""
    engine.update_execution_options(**{_OPTION: wakeup})


def announce(session: Session) -> None:
    """A delivery is due now: wake the dispatchers once this session's transaction commits."""
    session.info[_ANNOUNCED] = True
    if not session.info.get(_LISTENING):
        session.info[_LISTENING] = True
        event.listen(session, "before_commit", _notify)
        event.listen(session, "after_commit", _ring)
        event.listen(session, "after_rollback", _forget)


def _notify(session: Session) -> None:
    if session.info.get(_ANNOUNCED) and session.get_bind().dialect.name == "postgresql":
        wakeup = _installed(session)
        # Identical notifications of one transaction are folded into one by PostgreSQL.
        session.execute(sa.select(sa.func.pg_notify(CHANNEL, wakeup.token if wakeup else "")))


def _ring(session: Session) -> None:
    if not session.info.pop(_ANNOUNCED, False):
        return
    wakeup = _installed(session)
    if wakeup is not None:
        wakeup.ring()


def _installed(session: Session) -> Wakeup | None:
    wakeup = session.get_bind().get_execution_options().get(_OPTION)
    return wakeup if isinstance(wakeup, Wakeup) else None


def _forget(session: Session) -> None:
    session.info.pop(_ANNOUNCED, None)
