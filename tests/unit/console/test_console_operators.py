"""Operators in the core: passwords (argon2), lockout, sessions and roles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher

from runner.core.errors import Conflict, InvalidRequest, NotFound, Unauthorized
from runner.core.operators import (
    LOCKOUT,
    MAX_FAILED_SIGN_INS,
    SESSION_IDLE,
    SESSION_LIFETIME,
    Forbidden,
    Operators,
    Role,
)
from runner.core.system import System
from runner.core.tables import Account
from tests.unit.console.signed import PASSWORD


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def operators(system: System, clock: Clock) -> Operators:
    return Operators(
        system.engine, hasher=PasswordHasher(time_cost=1, memory_cost=64, parallelism=1), clock=clock
    )


def test_create_stores_an_argon2_hash_and_a_normalised_email(operators: Operators, clinic: Account) -> None:
    row = operators.create(clinic.id, "  Alice@Example.TEST ", role=Role.REVIEWER, password=PASSWORD)
    assert row.email == "alice@example.test"
    assert row.password_hash.startswith("$argon2id$") and PASSWORD not in row.password_hash
    with pytest.raises(Conflict):
        operators.create(clinic.id, "alice@example.test", role=Role.VIEWER, password=PASSWORD)


@pytest.mark.parametrize(("email", "password"), [("not-an-email", PASSWORD), ("bob@example.test", "short")])
def test_create_refuses_bad_emails_and_short_passwords(
    operators: Operators, clinic: Account, email: str, password: str
) -> None:
    with pytest.raises(InvalidRequest):
        operators.create(clinic.id, email, role=Role.VIEWER, password=password)


def test_create_needs_an_existing_account(operators: Operators) -> None:
    with pytest.raises(NotFound):
        operators.create("no-such-account", "x@example.test", role=Role.VIEWER, password=PASSWORD)


def test_sign_in_gives_a_session_whose_token_is_not_stored(operators: Operators, clinic: Account) -> None:
    operators.create(clinic.id, "alice@example.test", role=Role.ADMIN, password=PASSWORD)
    signed, token = operators.sign_in("ALICE@example.test", PASSWORD)
    assert signed.account.id == clinic.id and signed.actor == "operator:alice@example.test"
    assert signed.session.id != token and len(signed.session.csrf_token) >= 32
    again = operators.session(token)
    assert again is not None and again.operator.id == signed.operator.id
    assert operators.session("forged") is None


def test_wrong_password_and_unknown_email_get_the_same_answer(operators: Operators, clinic: Account) -> None:
    operators.create(clinic.id, "alice@example.test", role=Role.VIEWER, password=PASSWORD)
    with pytest.raises(Unauthorized) as wrong:
        operators.sign_in("alice@example.test", "wrong password!")
    with pytest.raises(Unauthorized) as unknown:
        operators.sign_in("nobody@example.test", PASSWORD)
    assert wrong.value.message == unknown.value.message
    assert type(wrong.value) is type(unknown.value) is Unauthorized


def test_lockout_after_repeated_failures_then_it_expires(
    operators: Operators, clinic: Account, clock: Clock
) -> None:
    operators.create(clinic.id, "alice@example.test", role=Role.VIEWER, password=PASSWORD)
    for _ in range(MAX_FAILED_SIGN_INS):
        with pytest.raises(Unauthorized):
            operators.sign_in("alice@example.test", "wrong password!")
    with pytest.raises(Unauthorized) as locked:
        operators.sign_in("alice@example.test", PASSWORD)  # even the right password waits
    with pytest.raises(Unauthorized) as unknown:
        operators.sign_in("nobody@example.test", PASSWORD)
    # A locked login answers like an unknown e-mail: the page does not tell which e-mails exist.
    assert type(locked.value) is type(unknown.value) and locked.value.message == unknown.value.message
    clock.now += LOCKOUT + timedelta(seconds=1)
    signed, _token = operators.sign_in("alice@example.test", PASSWORD)
    assert signed.operator.failed_logins == 0 and signed.operator.locked_until is None


def test_a_success_resets_the_failure_count(operators: Operators, clinic: Account) -> None:
    operators.create(clinic.id, "alice@example.test", role=Role.VIEWER, password=PASSWORD)
    for _ in range(MAX_FAILED_SIGN_INS - 1):
        with pytest.raises(Unauthorized):
            operators.sign_in("alice@example.test", "wrong password!")
    operators.sign_in("alice@example.test", PASSWORD)
    for _ in range(MAX_FAILED_SIGN_INS - 1):  # the count started again: four more are not a lockout
        with pytest.raises(Unauthorized):
            operators.sign_in("alice@example.test", "wrong password!")
    operators.sign_in("alice@example.test", PASSWORD)


def test_unlock_ends_a_lockout(operators: Operators, clinic: Account) -> None:
    operators.create(clinic.id, "alice@example.test", role=Role.VIEWER, password=PASSWORD)
    for _ in range(MAX_FAILED_SIGN_INS):
        with pytest.raises(Unauthorized):
            operators.sign_in("alice@example.test", "wrong password!")
    operators.unlock("alice@example.test")
    operators.sign_in("alice@example.test", PASSWORD)


def test_sessions_end_when_idle_too_long_or_too_old(
    operators: Operators, clinic: Account, clock: Clock
) -> None:
    operators.create(clinic.id, "alice@example.test", role=Role.VIEWER, password=PASSWORD)
    _signed, idle = operators.sign_in("alice@example.test", PASSWORD)
    clock.now += SESSION_IDLE + timedelta(seconds=1)
    assert operators.session(idle) is None
    _signed, busy = operators.sign_in("alice@example.test", PASSWORD)
    start = clock.now
    while clock.now - start < SESSION_LIFETIME - timedelta(hours=1):
        clock.now += SESSION_IDLE / 2
        assert operators.session(busy) is not None  # use keeps it alive...
    clock.now = start + SESSION_LIFETIME
    assert operators.session(busy) is None  # ...up to its lifetime


def test_sign_out_and_new_password_end_sessions(operators: Operators, clinic: Account) -> None:
    operators.create(clinic.id, "alice@example.test", role=Role.VIEWER, password=PASSWORD)
    _signed, first = operators.sign_in("alice@example.test", PASSWORD)
    _signed, second = operators.sign_in("alice@example.test", PASSWORD)
    operators.sign_out(first)
    assert operators.session(first) is None and operators.session(second) is not None
    operators.set_password("alice@example.test", "another long password")
    assert operators.session(second) is None
    with pytest.raises(Unauthorized):
        operators.sign_in("alice@example.test", PASSWORD)
    operators.sign_in("alice@example.test", "another long password")


def test_roles_are_ordered(operators: Operators, clinic: Account) -> None:
    assert Role.ADMIN.allows(Role.REVIEWER) and Role.REVIEWER.allows(Role.VIEWER)
    assert not Role.VIEWER.allows(Role.REVIEWER) and not Role.REVIEWER.allows(Role.ADMIN)
    operators.create(clinic.id, "victor@example.test", role=Role.VIEWER, password=PASSWORD)
    signed, _token = operators.sign_in("victor@example.test", PASSWORD)
    signed.require(Role.VIEWER, "read")
    with pytest.raises(Forbidden, match="viewer"):
        signed.require(Role.REVIEWER, "approve reviews")
    operators.set_role("victor@example.test", Role.REVIEWER)
    assert [o.role for o in operators.of_account(clinic.id)] == ["reviewer"]


def test_a_page_refreshing_itself_does_not_keep_the_session_alive(
    operators: Operators, clinic: Account, clock: Clock
) -> None:
    operators.create(clinic.id, "alice@example.test", role=Role.VIEWER, password=PASSWORD)
    _signed, token = operators.sign_in("alice@example.test", PASSWORD)
    for _ in range(4):
        clock.now += SESSION_IDLE / 3
        if operators.session(token, activity=False) is None:
            break
    assert operators.session(token) is None
