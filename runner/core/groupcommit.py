"""Group commit for SQLite: writes that arrive together share one transaction and one commit.

SQLite has one writer at a time, and each write transaction pays for its BEGIN, the connection's
checkout and, above all, its commit (the changed pages appended to the WAL: the same few pages,
the account's counters and the tables' last leaves, for every create). Here the first writer to
arrive leads: it takes every write queued so far and runs them one after another in one
transaction; writes that arrive meanwhile wait, and the next of them leads the next group once
the commit is done. Nothing waits for a group to fill: a lone write is a group of one.

A failing write never takes its neighbours down: if any write of a group raises (or the commit
fails) the transaction is rolled back and every write of the group runs again alone, in a
transaction of its own, so each gets its own result or its own error, as without grouping. A
write therefore must be safe to run twice (everything it does is in the transaction; work
outside it, e.g. storing a file's bytes, is done before). SQLite only: PostgreSQL writers run in
parallel and take row locks, so grouping would make them wait for each other.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlmodel import Session

from runner.core.db import session_scope

T = TypeVar("T")

# The most writes one transaction takes: bounds how long a group holds the write lock.
MAX_GROUP = 32


@dataclass(eq=False)
class _Write(Generic[T]):
    work: Callable[[Session], T]
    done: threading.Event = field(default_factory=threading.Event)
    lead: bool = False  # this write's thread runs the next group
    value: Any = None
    error: BaseException | None = None

    def outcome(self) -> T:
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[no-any-return]


class GroupCommit:
    """Runs `work(session)` in a write transaction shared with the writes queued beside it."""

    def __init__(self, engine: sa.Engine, *, max_group: int = MAX_GROUP) -> None:
        self._engine = engine
        self._max_group = max_group
        self._mutex = threading.Lock()
        self._queue: list[_Write[Any]] = []
        self._leading = False  # a thread is running a group (it hands the lead on when done)
        self.groups = 0  # groups committed together (for tests and figures)
        self.retried = 0  # groups rolled back and run again one write at a time

    def queued(self) -> int:
        """Writes waiting for a group (not yet taken by a leader)."""
        with self._mutex:
            return len(self._queue)

    def run(self, work: Callable[[Session], T]) -> T:
        """`work`'s result once its transaction has committed, or its own exception. Never call it
        inside a write transaction of this engine: the group's leader would wait for its lock."""
        write: _Write[T] = _Write(work)
        with self._mutex:
            self._queue.append(write)
            if not self._leading:
                self._leading = write.lead = True
        if not write.lead:
            write.done.wait()
            if not write.lead:  # run by the group's leader
                return write.outcome()
        self._lead()
        return write.outcome()

    def _lead(self) -> None:
        # The leader's own write is first in the queue: it was either alone or handed the lead.
        with self._mutex:
            group, self._queue = self._queue[: self._max_group], self._queue[self._max_group :]
        try:
            self._commit(group)
        finally:
            with self._mutex:
                if self._queue:
                    nxt = self._queue[0]
                    nxt.lead = True
                    nxt.done.set()
                else:
                    self._leading = False
            for write in group[1:]:
                write.done.set()

    def _commit(self, group: list[_Write[Any]]) -> None:
        values: list[Any] = []
        try:
            with session_scope(self._engine) as session:
                for write in group:
                    values.append(write.work(session))
        except BaseException as exc:
            if len(group) == 1:
                group[0].error = exc
                return
            self.retried += 1
            for write in group:  # the group was rolled back: each write alone, with its own outcome
                try:
                    with session_scope(self._engine) as session:
                        write.value = write.work(session)
                except BaseException as own:
                    write.error = own
            return
        self.groups += 1
        for write, value in zip(group, values, strict=True):
            write.value = value
