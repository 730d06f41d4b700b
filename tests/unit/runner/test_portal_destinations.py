"""Portal URLs under the destination policy: refused in every spelling when a login is added (core,
CLI), and again before each attempt, for a row that predates the policy or an allow list changed
since (the task fails before any browser opens). The console's form is in tests/unit/console."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from runner.cli.main import app
from runner.core.db import session_scope
from runner.core.destinations import AddressGuard
from runner.core.errors import UnsafePortalUrl
from runner.core.fake_browser import FakeBrowser
from runner.core.runtime import build_executor
from runner.core.settings import Settings
from runner.core.system import System, build
from runner.core.tables import Account, PortalCredential, Task
from runner.core.worker import Worker
from tests.support.destinations import REFUSED, fake_resolver

CLAIM = Path(__file__).resolve().parents[3] / "fixtures" / "tasks" / "submit_claim.txt"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'sopwright.db'}"  # the policy, not the storage, is under test


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"allow_hosts": ""})  # as in production: nothing internal


def portal_guard(*allow: str) -> AddressGuard:
    """The portal use of the policy, as `system.build` wires it, on a fake DNS."""
    return AddressGuard(allow, resolver=fake_resolver).for_use("portal", UnsafePortalUrl)


def add_login(system: System, account: Account, url: str) -> PortalCredential:
    return system.credentials.add(
        account.id, payer="acme", url=url, username="biller", password="pw", totp_secret=None
    )


@pytest.mark.parametrize(("url", "reason"), REFUSED)
def test_internal_portal_urls_are_refused_in_any_spelling(url: str, reason: str) -> None:
    with pytest.raises(UnsafePortalUrl) as caught:
        portal_guard().check_url(url + "acme/login")
    assert reason in caught.value.message
    assert caught.value.message.startswith("The portal URL's host")
    assert "SOPWRIGHT_ALLOW_HOSTS" in caught.value.message


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://evil.example.com/acme", "private"),
        ("https://metadata.example.com/", "link-local"),
        ("https://mixed.example.com/", "loopback"),
        ("https://mapped.example.com/", "IPv4-mapped"),
    ],
)
def test_portal_names_resolving_inside_are_refused(url: str, reason: str) -> None:
    with pytest.raises(UnsafePortalUrl, match=reason):
        portal_guard().check_url(url)
    assert portal_guard().check_url("https://hooks.example.com/acme")  # public: fine


def test_the_allow_list_lets_the_mock_portal_through_and_nothing_else() -> None:
    allowing = portal_guard("127.0.0.1")
    allowing.check_url("http://127.0.0.1:8900/acme")
    with pytest.raises(UnsafePortalUrl, match="loopback"):
        allowing.check_url("http://127.0.0.2:8900/acme")
    with pytest.raises(UnsafePortalUrl, match="link-local"):
        allowing.check_url("http://169.254.169.254/latest/meta-data/")


def test_adding_a_login_checks_its_url(system: System) -> None:
    account = system.accounts.create("Clinic").account
    for url in ("http://169.254.169.254/latest/", "http://127.0.0.1:8900/admin", "http://[::1]:80/"):
        with pytest.raises(UnsafePortalUrl, match="SOPWRIGHT_ALLOW_HOSTS"):
            add_login(system, account, url)
    assert system.credentials.of_account(account.id) == []
    # Unresolvable now (a portal not in DNS yet): accepted, and checked again before each attempt.
    assert add_login(system, account, "https://portal.invalid/acme").url == "https://portal.invalid/acme"


def test_one_setting_for_webhooks_and_portals_and_the_former_name_still_works(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for name in [k for k in os.environ if k.startswith("SOPWRIGHT_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("SOPWRIGHT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SOPWRIGHT_ALLOW_HOSTS", "10.0.0.0/8")
    monkeypatch.setenv("SOPWRIGHT_WEBHOOK_ALLOW_HOSTS", "127.0.0.1")
    settings = Settings()
    assert settings.allowed_hosts() == "10.0.0.0/8,127.0.0.1"
    caplog.set_level(logging.WARNING)
    system = build(settings)
    try:
        account = system.accounts.create("Clinic", webhook_url="http://10.1.2.3/hooks").account
        add_login(system, account, "http://127.0.0.1:8900/acme")
        with pytest.raises(UnsafePortalUrl):
            add_login(system, account, "http://192.168.1.10/acme")
    finally:
        system.close()
    assert "SOPWRIGHT_WEBHOOK_ALLOW_HOSTS is a former name" in caplog.text


def test_cli_portals_add_refuses_an_internal_url(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SOPWRIGHT_")},
        "SOPWRIGHT_DATA_DIR": str(tmp_path / "data"),
        "PORTAL_PASSWORD": "pw",
    }
    runner = CliRunner()
    assert runner.invoke(app, ["accounts", "create", "Clinic"], env=env).exit_code == 0
    add = [
        "portals",
        "add",
        "Clinic",
        "--payer",
        "acme",
        "--username",
        "u",
        "--password-env",
        "PORTAL_PASSWORD",
    ]
    refused = runner.invoke(app, [*add, "--url", "http://169.254.169.254/latest/meta-data/"], env=env)
    assert refused.exit_code == 1
    message = " ".join(refused.stderr.split())
    assert "link-local" in message and "SOPWRIGHT_ALLOW_HOSTS" in message
    assert "Traceback" not in refused.output + refused.stderr
    allowed = runner.invoke(
        app, [*add, "--url", "http://127.0.0.1:8900/acme"], env={**env, "SOPWRIGHT_ALLOW_HOSTS": "127.0.0.1"}
    )
    assert allowed.exit_code == 0, allowed.stderr


def run_worker(system: System) -> FakeBrowser:
    browser = FakeBrowser()
    worker = Worker(system.queue, build_executor(system), browser, concurrency=1, poll_interval=0.05)
    errors: list[BaseException] = []

    def main() -> None:  # off the main thread: pytest-playwright may own its event loop
        try:
            asyncio.run(worker.run(once=True))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=main)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive() and not errors, errors
    return browser


@pytest.fixture
def allowing(settings: Settings) -> Iterator[System]:
    """The same installation while 127.0.0.1 was still allowed."""
    core = build(settings.model_copy(update={"allow_hosts": "127.0.0.1"}))
    yield core
    core.close()


@pytest.mark.parametrize("how", ["row predates the policy", "allow list changed since"])
def test_a_task_whose_portal_url_is_refused_now_fails_before_the_browser(
    system: System, allowing: System, how: str
) -> None:
    account = system.accounts.create("Clinic").account
    if how == "row predates the policy":
        row = add_login(system, account, "https://portal.invalid/acme")
        with session_scope(system.engine) as session:
            stored = session.get(PortalCredential, row.id)
            assert stored is not None
            stored.url = "http://169.254.169.254/latest/meta-data"
            session.add(stored)
        reason = "link-local"
    else:
        add_login(allowing, account, "http://127.0.0.1:8900/acme")
        reason = "loopback"
    task = system.tasks.create(account, type="submit_claim", data=CLAIM.read_text(), actor="test")
    assert task.status == "pending", task.notes

    assert run_worker(system).opened == []  # the attempt ended before the browser
    with session_scope(system.engine, readonly=True) as session:
        done = session.get(Task, task.id)
    assert done is not None and done.status == "failed"
    notes = done.notes or ""
    assert notes.startswith("The acme portal login's address is not allowed: The portal URL's host")
    assert reason in notes and "SOPWRIGHT_ALLOW_HOSTS" in notes and "Settings" in notes
    assert (done.result or {}).get("failure_reason") == notes


def test_an_allowed_portal_url_passes_the_check_before_each_attempt(allowing: System) -> None:
    account = allowing.accounts.create("Clinic").account
    row = add_login(allowing, account, "http://127.0.0.1:8900/acme")
    assert allowing.credentials.refusal(row) is None
    unresolvable = add_login(allowing, account, "https://portal.invalid/beacon")
    assert allowing.credentials.refusal(unresolvable) is None  # the egress gate refuses it later
