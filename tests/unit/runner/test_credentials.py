"""Portal logins: encrypted at rest and bound to their row, chosen by payer, stopped before a lockout."""

from __future__ import annotations

import pytest

from runner.core.credentials import MAX_LOGIN_FAILURES
from runner.core.crypto import DecryptionFailed
from runner.core.db import session_scope
from runner.core.errors import InvalidRequest, NotFound
from runner.core.system import System
from runner.core.tables import PortalCredential


def add(
    system: System, account_id: str, payer: str, username: str = "biller", **kw: object
) -> PortalCredential:
    return system.credentials.add(
        account_id,
        payer=payer,
        url=f"http://127.0.0.1:8900/{payer}",
        username=username,
        password=f"{payer}-secret-pw",
        totp_secret="JBSWY3DPEHPK3PXP",
        **kw,  # type: ignore[arg-type]
    )


def test_secrets_are_encrypted_and_decrypt(system: System) -> None:
    account = system.accounts.create("Clinic").account
    row = add(system, account.id, "acme")
    with session_scope(system.engine, readonly=True) as session:
        stored = session.get(PortalCredential, row.id)
    assert stored is not None
    assert "acme-secret-pw" not in stored.password_enc
    assert "JBSWY3DPEHPK3PXP" not in (stored.totp_secret_enc or "")
    secrets = system.credentials.secrets(stored)
    assert secrets.password == "acme-secret-pw"
    assert secrets.totp_secret == "JBSWY3DPEHPK3PXP"


def test_a_ciphertext_swapped_into_another_row_does_not_decrypt(system: System) -> None:
    one = system.accounts.create("One").account
    two = system.accounts.create("Two").account
    first = add(system, one.id, "acme")
    second = add(system, two.id, "acme")
    with session_scope(system.engine) as session:
        victim = session.get(PortalCredential, second.id)
        assert victim is not None
        victim.password_enc = first.password_enc
        session.add(victim)
    with pytest.raises(DecryptionFailed):
        system.credentials.secrets(system.credentials.get(second.id))


def test_payer_selects_the_login(system: System) -> None:
    account = system.accounts.create("Clinic").account
    acme = add(system, account.id, "acme")
    beacon = add(system, account.id, "beacon", serves=["Bluebird Health Plan"])
    names = {"acme": "Acme Health", "beacon": "Beacon Exchange"}
    for payer, expected in [
        ("acme", acme),
        ("Acme Health", acme),
        ("ACME HEALTH PPO", acme),
        ("Beacon Exchange", beacon),
        ("bluebird health plan", beacon),
    ]:
        assert system.credentials.for_payer(account.id, payer, names=names).id == expected.id
    configured = (
        r"configured payers: Acme Health \(acme\), Beacon Exchange \(beacon; also Bluebird Health Plan\)"
    )
    with pytest.raises(NotFound, match=configured):
        system.credentials.for_payer(account.id, "Cedar Mutual", names=names)


def test_a_login_is_named_after_its_portal_unless_given_a_name(system: System) -> None:
    """The name a person knows the portal by: the registry's for a new login, `--name` over it,
    kept when the login's secrets are replaced without one; tasks may name the payer by it."""
    account = system.accounts.create("Clinic").account
    acme = add(system, account.id, "acme")
    beacon = add(system, account.id, "beacon", name="  Beacon   Provider Exchange ")
    other = add(system, account.id, "fake")
    assert (acme.name, beacon.name, other.name) == ("Acme Health", "Beacon Provider Exchange", "fake")
    assert add(system, account.id, "beacon").name == "Beacon Provider Exchange"
    assert add(system, account.id, "beacon", name="Beacon").name == "Beacon"
    assert system.credentials.for_payer(account.id, "beacon exchange").id == beacon.id  # the registry's
    assert system.credentials.for_payer(account.id, "Beacon").id == beacon.id
    for bad in ("x" * 201, "Acme\x00Health"):
        with pytest.raises(InvalidRequest, match="portal name"):
            add(system, account.id, "acme", name=bad)


def test_route_says_which_login_runs_a_payer_or_how_to_add_one(system: System) -> None:
    account = system.accounts.create("Clinic").account
    assert system.credentials.route(account.id, None) == (None, None)
    login, why = system.credentials.route(account.id, "Acme Health")
    assert login is None and why is not None
    assert "no portal login is set up for 'Acme Health'" in why and "logins for none" in why
    assert "sopwright portals add" in why and "/input" in why
    add(system, account.id, "beacon", serves=["Bluebird Health Plan"])
    login, why = system.credentials.route(account.id, "Acme Health")
    assert login is None and "Beacon Exchange (beacon; also Bluebird Health Plan)" in (why or "")
    login, why = system.credentials.route(account.id, "Bluebird Health Plan")
    assert login is not None and login.payer == "beacon" and why is None


def test_refused_logins_stop_the_login_and_re_adding_clears_it(system: System) -> None:
    account = system.accounts.create("Clinic").account
    row = add(system, account.id, "acme")
    stopped = [system.credentials.login_refused(row.id, "bad password") for _ in range(MAX_LOGIN_FAILURES)]
    assert stopped == [False] * (MAX_LOGIN_FAILURES - 1) + [True]
    assert system.credentials.get(row.id).disabled_at is not None
    again = add(system, account.id, "acme")
    assert again.id == row.id and again.disabled_at is None and again.consecutive_login_failures == 0


def test_bad_login_input(system: System) -> None:
    account = system.accounts.create("Clinic").account
    with pytest.raises(InvalidRequest, match="absolute http"):
        system.credentials.add(
            account.id, payer="acme", url="portal", username="u", password="p", totp_secret=None
        )
    with pytest.raises(InvalidRequest, match="password"):
        system.credentials.add(
            account.id, payer="acme", url="http://x.test/", username="u", password="", totp_secret=None
        )
