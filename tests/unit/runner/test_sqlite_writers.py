"""SQLite writers of one process queue on the engine's write lock (`runner.core.db.session_scope`):
none is refused or lost, a failed transaction releases the lock, and readers never wait for it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from runner.core import db


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = db.create_engine(f"sqlite:///{tmp_path / 'writers.db'}")
    with db.session_scope(engine) as session:
        session.execute(sa.text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        session.execute(sa.text("INSERT INTO counter (n) VALUES (0)"))
    yield engine
    engine.dispose()


def _count(engine: sa.Engine) -> int:
    with db.session_scope(engine, readonly=True) as session:
        return int(session.execute(sa.text("SELECT n FROM counter")).scalar_one())


def _bump(engine: sa.Engine) -> None:
    with db.session_scope(engine) as session:
        n = session.execute(sa.text("SELECT n FROM counter")).scalar_one()
        session.execute(sa.text("UPDATE counter SET n = :n"), {"n": n + 1})


def test_concurrent_writers_all_commit_and_none_is_lost(engine: sa.Engine) -> None:
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for _ in range(25):
                _bump(engine)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert _count(engine) == 8 * 25  # read-then-write in each transaction: no update lost


def _failed_write(engine: sa.Engine) -> None:
    with db.session_scope(engine) as session:
        session.execute(sa.text("UPDATE counter SET n = 100"))
        raise RuntimeError("boom")


def test_a_failed_write_releases_the_lock(engine: sa.Engine) -> None:
    with pytest.raises(RuntimeError):
        _failed_write(engine)
    other = threading.Thread(target=_bump, args=(engine,))
    other.start()
    other.join(timeout=60)
    assert not other.is_alive()
    assert _count(engine) == 1  # the failed transaction was rolled back, the other one committed


def test_readers_do_not_wait_for_a_writer(engine: sa.Engine) -> None:
    inside, release = threading.Event(), threading.Event()

    def slow_writer() -> None:
        with db.session_scope(engine) as session:
            session.execute(sa.text("UPDATE counter SET n = 5"))
            inside.set()
            release.wait(timeout=60)

    writer = threading.Thread(target=slow_writer)
    writer.start()
    try:
        assert inside.wait(timeout=60)
        assert _count(engine) == 0  # read while the writer holds the lock: the last committed value
    finally:
        release.set()
        writer.join(timeout=60)
    assert _count(engine) == 5
