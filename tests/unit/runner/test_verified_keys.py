"""A key that passed its check is taken again for `api_key_cache_seconds` without a database read;
what another process changes meanwhile reaches this one that late, what this one changes at once."""

from __future__ import annotations

import pytest

from runner.core import keys
from runner.core.accounts import Accounts
from runner.core.errors import Unauthorized
from runner.core.system import System


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_lasts_max_age_and_is_keyed_by_the_keys_hash() -> None:
    clock = Clock()
    verified: keys.VerifiedKeys[str] = keys.VerifiedKeys(2.0, clock=clock)
    verified.put("sk_a_secret", "account a", generation=verified.generation)
    assert verified.get("sk_a_secret") == "account a"
    assert verified.get("sk_a_secretX") is None
    assert "sk_a_secret" not in repr(verified._entries)  # the key itself is never kept
    clock.now += 1.9
    assert verified.get("sk_a_secret") == "account a"
    clock.now += 0.1
    assert verified.get("sk_a_secret") is None


def test_a_check_that_read_before_a_clear_is_not_kept() -> None:
    verified: keys.VerifiedKeys[str] = keys.VerifiedKeys(2.0, clock=Clock())
    generation = verified.generation  # a check reads the database here...
    verified.clear()  # ...a revocation commits and clears...
    verified.put("sk_a_secret", "account a", generation=generation)  # ...the old answer arrives
    assert verified.get("sk_a_secret") is None


def test_the_oldest_entries_go_past_the_size() -> None:
    verified: keys.VerifiedKeys[int] = keys.VerifiedKeys(2.0, size=2, clock=Clock())
    for n in range(3):
        verified.put(f"sk_{n}_secret", n, generation=verified.generation)
    assert [verified.get(f"sk_{n}_secret") for n in range(3)] == [None, 1, 2]


def test_max_age_zero_keeps_nothing() -> None:
    verified: keys.VerifiedKeys[str] = keys.VerifiedKeys(0, clock=Clock())
    verified.put("sk_a_secret", "account a", generation=verified.generation)
    assert verified.get("sk_a_secret") is None


@pytest.fixture
def two_processes(system: System) -> tuple[Accounts, Accounts, str, str, Clock]:
    """This process's Accounts (keys cached 2 s) and another process's on the same database."""
    clock = Clock()
    here = Accounts(system.engine, system.box, key_cache_seconds=2.0, clock=clock)
    there = Accounts(system.engine, system.box)
    created = there.create("Clinic")
    return here, there, created.account.id, created.api_key, clock


def test_a_key_revoked_elsewhere_works_here_until_its_check_is_older_than_max_age(
    two_processes: tuple[Accounts, Accounts, str, str, Clock],
) -> None:
    here, there, account_id, api_key, clock = two_processes
    assert here.authenticate(api_key).id == account_id
    there.revoke_key(api_key)
    clock.now += 1.5
    assert here.authenticate(api_key).id == account_id  # taken on the earlier check's word
    clock.now += 0.5
    with pytest.raises(Unauthorized, match="revoked"):
        here.authenticate(api_key)
    with pytest.raises(Unauthorized, match="revoked"):
        here.authenticate(api_key)  # a refusal is never kept as a pass


def test_a_key_revoked_here_stops_at_once(two_processes: tuple[Accounts, Accounts, str, str, Clock]) -> None:
    here, _there, _account_id, api_key, _clock = two_processes
    here.authenticate(api_key)
    here.revoke_key(keys.key_id_of(api_key) or "")
    with pytest.raises(Unauthorized, match="revoked"):
        here.authenticate(api_key)


def test_defaults_set_here_reach_the_next_request_at_once_set_elsewhere_within_max_age(
    two_processes: tuple[Accounts, Accounts, str, str, Clock],
) -> None:
    here, there, account_id, api_key, clock = two_processes
    assert here.authenticate(api_key).defaults == {}
    here.set_defaults(account_id, {"tax_id": "123456789"})
    assert here.authenticate(api_key).defaults == {"tax_id": "123456789"}
    there.set_defaults(account_id, {"tax_id": "987654321"})
    assert here.authenticate(api_key).defaults == {"tax_id": "123456789"}
    clock.now += 2.0
    assert here.authenticate(api_key).defaults == {"tax_id": "987654321"}


def test_a_wrong_secret_for_a_known_key_id_is_refused_while_the_key_is_kept(
    two_processes: tuple[Accounts, Accounts, str, str, Clock],
) -> None:
    here, _there, _account_id, api_key, _clock = two_processes
    here.authenticate(api_key)
    with pytest.raises(Unauthorized, match="not valid"):
        here.authenticate(api_key[:-1] + ("A" if api_key[-1] != "A" else "B"))
