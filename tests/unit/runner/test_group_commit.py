"""Group commit (`runner.core.groupcommit`): writes queued while a group runs share the next
transaction; a failing write gets its own error and never takes its neighbours down (the group is
rolled back and each write runs again alone)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from runner.core import db
from runner.core.groupcommit import GroupCommit


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = db.create_engine(f"sqlite:///{tmp_path / 'group.db'}")
    with db.session_scope(engine) as session:
        session.execute(sa.text("CREATE TABLE rows (name TEXT NOT NULL UNIQUE)"))
    yield engine
    engine.dispose()


def _names(engine: sa.Engine) -> list[str]:
    with db.session_scope(engine, readonly=True) as session:
        return sorted(session.execute(sa.text("SELECT name FROM rows")).scalars())


def _insert(name: str) -> Callable[[Session], str]:
    def work(session: Session) -> str:
        session.execute(sa.text("INSERT INTO rows (name) VALUES (:name)"), {"name": name})
        return name

    return work


def _wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)  # polling a condition, not a fixed wait


def _grouped(
    engine: sa.Engine, group: GroupCommit, works: list[Callable[[Session], str]]
) -> list[Future[str]]:
    """The first write leads and holds its transaction open until all the others have queued, so
    the others make one group of their own."""
    started, release = threading.Event(), threading.Event()

    def first(session: Session) -> str:
        started.set()
        release.wait(timeout=30)
        return _insert("first")(session)

    pool = ThreadPoolExecutor(max_workers=len(works) + 1)
    futures = [pool.submit(group.run, first)]
    assert started.wait(timeout=30)  # the first leads, in a group of itself
    futures += [pool.submit(group.run, work) for work in works]
    _wait_for(lambda: group.queued() == len(works))
    release.set()
    pool.shutdown(wait=True)
    return futures


def test_writes_queued_together_share_one_transaction(engine: sa.Engine) -> None:
    group = GroupCommit(engine)
    futures = _grouped(engine, group, [_insert(f"w{i}") for i in range(6)])
    assert [f.result() for f in futures] == ["first"] + [f"w{i}" for i in range(6)]
    assert group.groups == 2 and group.retried == 0
    assert _names(engine) == sorted(["first"] + [f"w{i}" for i in range(6)])


def test_a_failing_write_gets_its_own_error_and_its_neighbours_commit(engine: sa.Engine) -> None:
    group = GroupCommit(engine)

    def broken(session: Session) -> str:
        _insert("half-done")(session)
        raise ValueError("this write fails")

    works = [_insert("w0"), broken, _insert("w1"), _insert("first")]  # the last: a duplicate name
    futures = _grouped(engine, group, works)
    assert futures[0].result() == "first"
    assert futures[1].result() == "w0" and futures[3].result() == "w1"
    with pytest.raises(ValueError, match="this write fails"):
        futures[2].result()
    with pytest.raises(sa.exc.IntegrityError):
        futures[4].result()
    assert group.retried == 1  # the group of four was rolled back and run again one by one
    assert _names(engine) == ["first", "w0", "w1"]


def test_a_lone_write_is_a_group_of_one(engine: sa.Engine) -> None:
    group = GroupCommit(engine)
    assert group.run(_insert("alone")) == "alone"
    with pytest.raises(sa.exc.IntegrityError):
        group.run(_insert("alone"))
    assert group.groups == 1 and group.retried == 0
    assert _names(engine) == ["alone"]
    # The lead was handed back: the next write runs at once.
    assert group.run(_insert("next")) == "next"
