from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from runner.core.system import System
from tests.unit.runner.callers import Caller


@pytest.fixture
def caller(system: System) -> Caller:
    created = system.accounts.create("Clinic A")
    return Caller(created.account.id, created.api_key)


@pytest.fixture
def other_caller(system: System) -> Caller:
    created = system.accounts.create("Clinic B")
    return Caller(created.account.id, created.api_key)


@pytest.fixture
def api(client: TestClient) -> TestClient:
    return client
