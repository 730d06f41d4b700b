"""Console fixtures: a clinic with a reviewer, a viewer and an admin, and a second clinic."""

from __future__ import annotations

import pytest

from runner.core.operators import Role
from runner.core.system import System
from runner.core.tables import Account
from tests.support.logins import add_logins
from tests.support.task_fixtures import task_fixture
from tests.unit.console.signed import Person, fast_operators, person


@pytest.fixture
def system(system: System) -> System:
    fast_operators(system)
    return system


@pytest.fixture
def clinic(system: System) -> Account:
    account = system.accounts.create("Clinic").account
    add_logins(system, account.id)
    return account


@pytest.fixture
def other_clinic(system: System) -> Account:
    account = system.accounts.create("Other clinic").account
    add_logins(system, account.id)
    return account


@pytest.fixture
def reviewer(system: System, clinic: Account) -> Person:
    someone = person(system, clinic.id, "rita@example.test", Role.REVIEWER)
    assert someone.sign_in().status_code == 303
    return someone


@pytest.fixture
def viewer(system: System, clinic: Account) -> Person:
    someone = person(system, clinic.id, "victor@example.test", Role.VIEWER)
    assert someone.sign_in().status_code == 303
    return someone


@pytest.fixture
def admin(system: System, clinic: Account) -> Person:
    someone = person(system, clinic.id, "ada@example.test", Role.ADMIN)
    assert someone.sign_in().status_code == 303
    return someone


def claim_data() -> str:
    return task_fixture("submit_claim")
