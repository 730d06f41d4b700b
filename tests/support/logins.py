"""Portal logins for accounts in tests that create tasks but never run them: a task whose payer
has no login waits for input at create, so the fixture accounts get one login per mock payer."""

from __future__ import annotations

from runner.core.system import System

# Nothing listens here: tests that use these logins never open a browser.
UNUSED_PORTAL = "http://127.0.0.1:9"
BEACON_PAYERS = ["Bluebird Health Plan"]


def add_logins(system: System, account_id: str, *, url: str = UNUSED_PORTAL) -> None:
    for payer, serves in (("acme", []), ("beacon", BEACON_PAYERS)):
        system.credentials.add(
            account_id,
            payer=payer,
            url=f"{url}/{payer}",
            username=f"{payer}-user",
            password="not-used",
            totp_secret=None,
            serves=serves,
        )
