"""Console e2e: the API app (with /console) served on a free port, an operator signed in through
the real sign-in form in Chromium, and a fake or real portal worker run on demand. SQLite only."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from argon2 import PasswordHasher
from playwright.sync_api import Page, expect

from handlers.fake import FakePortal
from runner.api.app import create_app
from runner.core.operators import Operators, Role
from runner.core.runtime import build_worker
from runner.core.settings import Settings
from runner.core.system import System
from runner.core.tables import Account
from tests.support.threaded import run_async

ROOT = Path(__file__).resolve().parents[3]
SHOTS = ROOT / "test-results" / "console"
FIXTURE_CLAIM = ROOT / "fixtures" / "tasks" / "submit_claim.txt"
PASSWORD = "correct horse battery"
CLAIM_STEPS = ["login", "open_claim_form", "fill_claim", "submit_claim", "capture_claim_number"]
ELIGIBILITY_STEPS = ["login", "check_eligibility"]


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'sopwright.db'}"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"trace": "always", "poll_scale": 0.001, "allow_hosts": "127.0.0.1"})


@pytest.fixture
def system(system: System) -> System:
    # Argon2 with test-sized costs: the same code path, milliseconds per hash.
    system.operators = Operators(
        system.engine, hasher=PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )
    return system


@pytest.fixture
def console_url(system: System) -> Iterator[str]:
    """The whole API app on 127.0.0.1 (a thread); the console is under /console."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(system), log_level="warning", lifespan="off", access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="console", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while not server.started or httpx.get(f"{base}/healthz", timeout=1).status_code != 200:
        assert thread.is_alive() and time.monotonic() < deadline, "the console server did not start"
        time.sleep(0.02)  # start-up polling in a fixture, not a wait inside a test
    yield f"{base}/console"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture
def clinic(system: System) -> Account:
    account = system.accounts.create("Maple Street Clinic").account
    system.credentials.add(
        account.id,
        payer="fake",
        url="http://portal.invalid/fake",
        username="biller",
        password="pw",
        totp_secret=None,
    )
    return account


@dataclass
class Desk:
    """One operator at the console in Chromium, and the back office around them."""

    page: Page
    url: str
    system: System
    account: Account

    def add(self, email: str, role: Role) -> str:
        self.system.operators.create(self.account.id, email, role=role, password=PASSWORD)
        return email

    def sign_in(self, email: str, password: str = PASSWORD, *, refused: bool = False) -> None:
        """Through the form, with the keyboard; waits for the page that follows."""
        self.page.goto(f"{self.url}/signin")
        self.page.get_by_label("Email").fill(email)
        self.page.get_by_label("Password").fill(password)
        with self.page.expect_navigation():
            self.page.get_by_label("Password").press("Enter")
        if not refused:
            expect(self.page.get_by_role("button", name="Sign out")).to_be_visible()

    def go(self, path: str) -> None:
        self.page.goto(f"{self.url}{path}")

    def shot(self, name: str, *, full_page: bool = True) -> None:
        """A screenshot into test-results/console/ (looked at by a person, not diffed)."""
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)

    def flash(self) -> str:
        return self.page.get_by_test_id("flash").inner_text()

    def claim(self, *, extra: str = "", payer: str = "fake") -> str:
        data = FIXTURE_CLAIM.read_text().replace("payer: Acme Health", f"payer: {payer}") + extra
        return self.system.tasks.create(self.account, type="submit_claim", data=data, actor="api:demo").id

    def big_claim(self) -> str:
        """A claim over $5,000: the SOP's review gate holds it before the submit click."""
        lines = "\n".join("service line: cpt=99215, units=1, charge=2000.00, pointers=A" for _ in range(3))
        data = "\n".join(
            line
            for line in FIXTURE_CLAIM.read_text().replace("payer: Acme Health", "payer: fake").splitlines()
            if not line.lower().startswith(("service line", "total"))
        )
        return self.system.tasks.create(
            self.account, type="submit_claim", data=f"{data}\n{lines}", actor="api:demo"
        ).id

    def run_worker(self, portal: FakePortal | None = None, steps: Sequence[str] = CLAIM_STEPS) -> None:
        """Drain the queue once with a fake-portal worker (its own thread: the page's loop is ours)."""
        fake = portal or FakePortal(script={"capture_claim_number": [{"claim_number": "FK0000000001"}]})
        worker = build_worker(self.system, portals={"fake": fake.handler(steps)}, poll_interval=0.05)
        run_async(lambda: worker.run(once=True))

    def status(self, task_id: str) -> str:
        return self.system.tasks.get(self.account.id, task_id)[0].status


@pytest.fixture
def desk(page: Page, console_url: str, system: System, clinic: Account) -> Iterator[Desk]:
    # Worker runs and live refreshes take seconds on a loaded machine; put Playwright's default back after.
    page.set_default_timeout(10_000)
    expect.set_options(timeout=10_000)
    yield Desk(page, console_url, system, clinic)
    expect.set_options(timeout=5_000)


def badge_of(page: Page) -> str:
    return re.sub(r"\s+", " ", page.locator("h1").get_by_test_id("status").inner_text())
