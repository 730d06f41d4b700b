from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from runner.core.system import System
from tests.conftest import POSTGRES_ADMIN_URL
from tests.support.logins import add_logins
from tests.unit.runner.callers import Caller


@pytest.fixture
def caller(system: System) -> Caller:
    created = system.accounts.create("Clinic A")
    add_logins(system, created.account.id)
    return Caller(created.account.id, created.api_key, created.account.public_id)


@pytest.fixture
def other_caller(system: System) -> Caller:
    created = system.accounts.create("Clinic B")
    add_logins(system, created.account.id)
    return Caller(created.account.id, created.api_key, created.account.public_id)


@pytest.fixture
def api(client: TestClient) -> TestClient:
    return client


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of its own, with no schema yet (so that a test can stop at an old revision)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"sopwright_ids_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield sa.make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()
