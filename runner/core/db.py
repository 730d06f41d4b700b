"""Engines, sessions and schema migrations, for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import Session

from runner.core.errors import ConfigError
from runner.core.private import private_file, tighten

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_POOL_SIZE = 20  # file databases: connections kept open (a SQLite connection is a file handle)

# One lock per SQLite engine that this process's writers queue on (see `session_scope`).
_WRITE_LOCKS: weakref.WeakKeyDictionary[sa.Engine, threading.RLock] = weakref.WeakKeyDictionary()


def is_sqlite(engine: sa.Engine) -> bool:
    return engine.dialect.name == "sqlite"


def rowcount(result: sa.Result[Any]) -> int:
    """How many rows an UPDATE or DELETE matched (`Session.execute` is typed as returning a plain
    Result, which has no `rowcount`; for those statements it is a CursorResult)."""
    assert isinstance(result, sa.CursorResult)
    return int(result.rowcount)


def create_engine(url: str) -> sa.Engine:
    """An engine with the pragmas sopwright relies on (SQLite: WAL, busy timeout, foreign keys)."""
    if url.startswith("sqlite"):
        sqlite_path = url.split("///", 1)[-1]
        pool: dict[str, Any] = {}
        if sqlite_path and sqlite_path != ":memory:" and not sqlite_path.startswith("file:"):
            # The database holds PHI; SQLite gives its -wal and -shm files the database file's mode.
            database = private_file(Path(sqlite_path))
            for companion in ("-wal", "-shm"):
                tighten(database.with_name(database.name + companion))
            # Keep as many connections as the API's threads use at once: past the default 5 kept,
            # each connection was closed on return and the next one opened again (with its pragmas).
            pool = {"pool_size": SQLITE_POOL_SIZE, "max_overflow": 10}
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            **pool,
        )
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin)
        _WRITE_LOCKS[engine] = threading.RLock()
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return sa.create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control away from the sqlite3 module; _sqlite_begin issues BEGIN itself.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: sa.Connection) -> None:
    # Writers use an immediate transaction: it takes the write lock at BEGIN, so two writers never
    # fail on a read-then-write upgrade ("database is locked"); the busy timeout makes one wait.
    # Straight on the driver's connection: through `exec_driver_sql` this one word cost as much
    # as a query (an execution context, its events), on every transaction.
    mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
    driver = connection.connection.driver_connection
    assert driver is not None  # a connection that begins is checked out
    driver.execute(f"BEGIN {mode}")


@contextmanager
def session_scope(engine: sa.Engine, *, readonly: bool = False) -> Iterator[Session]:
    """One transaction: committed on success, rolled back on any exception.

    `readonly` sessions on SQLite begin DEFERRED so that readers never queue behind writers.
    Writers on SQLite hold the engine's write lock for the transaction: SQLite lets one writer
    in at a time, and a writer refused at BEGIN IMMEDIATE sleeps in the busy handler (up to
    100 ms a try) however soon the lock is free, so this process's writers queue on a Python
    lock instead (handed over at once). Past the busy timeout a writer goes on without it, as
    before (other processes still meet the busy handler).
    """
    lock = None if readonly else _WRITE_LOCKS.get(engine)
    held = lock is not None and lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    try:
        bind = engine.execution_options(sqlite_begin="DEFERRED") if readonly else engine
        with Session(bind, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
    finally:
        if held:
            assert lock is not None
            lock.release()


@contextmanager
def read_connection(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A read-only transaction on a plain connection, for reads on every request that build no ORM
    objects (`session_scope(readonly=True)` without the session's bookkeeping). On SQLite it begins
    DEFERRED, so it never queues behind writers."""
    with engine.connect() as connection:
        connection.execution_options(sqlite_begin="DEFERRED")
        with connection.begin():
            yield connection


def _alembic_config(engine: sa.Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision` (idempotent)."""
    command.upgrade(_alembic_config(engine), revision)


def head_revision() -> str | None:
    script = ScriptDirectory.from_config(_alembic_config(sa.create_engine("sqlite://")))
    return script.get_current_head()


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def require_current(engine: sa.Engine) -> None:
    """Refuse to run against a database whose schema is behind or ahead of this code."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise ConfigError(
            f"The database schema is at revision {current or 'none'}, this code needs {head}. "
            "Run `sopwright db upgrade`.",
            current=current,
            head=head,
        )


def open_database(url: str, *, auto_upgrade: bool) -> sa.Engine:
    """Create the engine; the embedded SQLite default upgrades itself, others must be current."""
    engine = create_engine(url)
    if auto_upgrade:
        upgrade(engine)
    else:
        require_current(engine)
    return engine
