"""Fixtures shared by every tier: a database on each backend, the wired core, an API client.

The storage and API tests run twice, on SQLite and on PostgreSQL (`postgres` marker). The
PostgreSQL tests use a database of their own, created for the session and dropped after it, on
the server named by SOPWRIGHT_TEST_POSTGRES_URL (default: the local server's `test` database).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from handlers.portals import portal_handlers, portal_names
from runner.api.app import create_app
from runner.core import db
from runner.core.crypto import SecretBox
from runner.core.settings import Settings
from runner.core.system import System, build
from runner.core.tables import metadata

TESTS = Path(__file__).parent
TIERS = ("unit", "e2e", "reliability")  # a folder of tests/ each, marked by folder below
# pytest-playwright's fixtures: a test using one drives Chromium, which the unit tier never does.
BROWSER_FIXTURES = frozenset({"page", "context", "browser", "browser_type", "launch_browser"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test with the tier of its folder, so that `-m "not e2e"` and `make test-fast` can
    never pick up a browser test that forgot its marker; refuse a test outside the tiers and a
    browser test in the unit tier."""
    for item in items:
        try:
            tier = item.path.relative_to(TESTS).parts[0]
        except ValueError:
            continue  # not one of ours (a plugin's)
        if tier not in TIERS:
            raise pytest.UsageError(f"{item.nodeid}: a test lives in tests/{', tests/'.join(TIERS)}.")
        if tier == "unit" and BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            raise pytest.UsageError(
                f"{item.nodeid} drives a browser: it belongs in tests/e2e, not tests/unit."
            )
        item.add_marker(tier)
    # The slowest tier first: with `-n 2`, xdist hands tests out in this order, so the minutes-long
    # reliability tests start at once and the many short unit tests fill the other worker's time,
    # instead of the long tests running last, one after the other (the order is the same in every
    # worker process: a stable sort of one collection).
    items.sort(key=lambda item: _TIER_ORDER.get(_tier_of(item) or "", len(TIERS)))


_TIER_ORDER = {"reliability": 0, "e2e": 1, "unit": 2}


def _tier_of(item: pytest.Item) -> str | None:
    try:
        return item.path.relative_to(TESTS).parts[0]
    except ValueError:
        return None


POSTGRES_ADMIN_URL = os.environ.get(
    "SOPWRIGHT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(params=sorted(portal_handlers()))
def payer(request: pytest.FixtureRequest) -> str:
    """Each portal sopwright has step scripts for, by key (a test taking `payer` runs on every one,
    and on a portal added later without being edited)."""
    key: str = request.param
    return key


@pytest.fixture(scope="session", autouse=True)
def _hypothesis_regex_imported_early() -> None:
    """Import hypothesis's regex strategies before any test starts a thread.

    pytest rewrites every module of a plugin distribution (hypothesis is one) with `ast.parse` when
    it is first imported, and CPython 3.11 keeps the AST converter's recursion depth in one
    per-interpreter counter that a conversion in another thread (a test's server or worker thread)
    can disturb mid-way. A fresh-clone CI run failed once with "SystemError: AST constructor
    recursion depth mismatch" when hypothesis imported this module lazily, in the middle of a
    webhook signing test. (Not at conftest import: hypothesis warns about loading its charmap
    during plugin initialisation.)
    """
    import hypothesis.strategies._internal.regex  # noqa: F401


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated to head."""
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"sopwright_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL} ({exc.orig}); start it or run "
            "`pytest -m 'not postgres'`."
        )
    url = sa.make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    engine = db.create_engine(url)
    db.upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated to head once per test process; each test gets a copy of it.

    Migrating a new file takes about half a second (eleven revisions through Alembic) and most
    tests of the SQLite side start from an empty database at head, as the PostgreSQL side does
    from its one migrated database. The migrations themselves are still run from nothing by
    tests/unit/runner/test_migrations.py.
    """
    path = tmp_path_factory.mktemp("sqlite-template") / "sopwright.db"
    engine = db.create_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    engine.dispose()
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the one file that is copied
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "sopwright.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url: str = request.getfixturevalue("postgres_url")
    yield url
    engine = db.create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in reversed(metadata.sorted_tables))
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    engine.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Loopback 127.0.0.1 is allowed (the mock portal and the webhook receivers run there); every
    other internal address is refused, as in production."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key=SecretBox.generate_key(),
        allow_hosts="127.0.0.1",
    )


@pytest.fixture
def system(settings: Settings) -> Iterator[System]:
    core = build(settings, portal_names=portal_names())
    yield core
    core.close()


@pytest.fixture
def client(system: System) -> Iterator[TestClient]:
    with TestClient(create_app(system), raise_server_exceptions=False) as test_client:
        yield test_client
