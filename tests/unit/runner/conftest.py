from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from runner.core.system import System
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
