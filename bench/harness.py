"""What every benchmark shares: starting and stopping the mock portal, the API and workers as
subprocesses (always stopped, in `finally`), a demo-like account, sample claims, and the table.

Everything listens on 127.0.0.1; every wait is bounded by a deadline.
"""

from __future__ import annotations

import base64
import contextlib
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import psutil
import pyotp
import sqlalchemy as sa
from claims import CLAIM_NUMBER, Claim, claims
from rich.console import Console
from rich.table import Table

from runner.core import db
from runner.core.settings import Settings
from runner.core.system import build
from runner.core.webhooks.receiver import Receiver

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
FINAL = {"completed", "completed_with_issues", "failed"}
console = Console(width=160)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def process(
    name: str, command: list[str], env: dict[str, str], log: Path, ready_url: str | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `command` until the block ends; with `ready_url`, wait (60 s at most) until it answers."""
    with log.open("w") as sink:
        proc = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while ready_url is not None:
            if proc.poll() is not None:
                raise RuntimeError(f"the {name} exited early; see {log}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(ready_url, timeout=1).status_code < 500:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the {name} did not start within 60 s; see {log}")
            time.sleep(0.1)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=45)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Portal:
    """A running mock portal and its admin API."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.admin = httpx.Client(base_url=url, timeout=30)

    @property
    def acme(self) -> str:
        return f"{self.url}/acme"

    def user(self, payer: str = "acme") -> dict[str, str]:
        return dict(self.admin.get("/_mock/users").json()[payer][0])

    def knobs(self, **changes: Any) -> None:
        self.admin.patch("/_mock/knobs", json=changes).raise_for_status()

    def reset(self, **knobs: Any) -> None:
        """Reseed, end every session; then set `knobs` again (a reset restores the defaults)."""
        self.admin.post("/_mock/reset").raise_for_status()
        if knobs:
            self.knobs(**knobs)

    def page_loads(self) -> int | None:
        """Browser page loads (pages and frames, every redirect hop) since the last reset; None
        from a portal that does not count them."""
        response = self.admin.get("/_mock/traffic")
        if response.status_code != 200:
            return None
        return sum(n for by_dest in response.json()["page_loads"].values() for n in by_dest.values())

    def recent_loads(self) -> list[dict[str, str]]:
        """The latest page loads, oldest first (`payer`, `dest`, `method`, `path`)."""
        response = self.admin.get("/_mock/traffic")
        return list(response.json()["recent"]) if response.status_code == 200 else []

    def claims(self) -> list[dict[str, Any]]:
        return list(self.admin.get("/_mock/submissions", params={"payer": "acme", "kind": "claim"}).json())


@contextlib.contextmanager
def running_portal(work: Path, latency_ms: int, fixtures: Path | None = None) -> Iterator[Portal]:
    """The mock portal (seeded from `fixtures`, default the bundled ones), warmed up."""
    url = f"http://127.0.0.1:{free_port()}"
    port = url.rsplit(":", 1)[1]
    command = [PY, "-m", "mock_portal", "--port", port, "--admin"]
    if fixtures is not None:
        command += ["--fixtures", str(fixtures)]
    with process("mock portal", command, dict(os.environ), work / "portal.log", f"{url}/_mock/payers"):
        portal = Portal(url)
        warm_up(portal)
        portal.reset(latency_ms=latency_ms)
        yield portal


def warm_up(portal: Portal) -> None:
    """One claim by form posts, then a reset: the portal's first claim loads its code tables (ICD-10
    and the like, seconds), a cost no side of a comparison should pay."""
    user = portal.user()
    with httpx.Client(base_url=portal.acme, timeout=60, follow_redirects=True) as client:
        client.post("/login", data={"username": user["username"], "password": user["password"]})
        client.post("/login/verify", data={"code": pyotp.TOTP(user["totp_secret"]).now()})
        client.get("/claims/new").raise_for_status()
        answer = client.post("/claims/new", data=claims(1, first=99_000)[0].form())
        if CLAIM_NUMBER.search(answer.text) is None:
            raise RuntimeError("the warm-up claim was not accepted by the mock portal")


@contextlib.contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """A new database on the server of `admin_url`, migrated to head; dropped afterwards."""
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"sopwright_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        engine = db.create_engine(url)
        db.upgrade(engine)
        engine.dispose()
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@dataclass
class Account:
    id: str
    api_key: str
    secret: str
    credential_id: str


def env_for(data_dir: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "SOPWRIGHT_DATA_DIR": str(data_dir),
        "SOPWRIGHT_DATABASE_URL": "",
        "SOPWRIGHT_SECRET_KEY": SECRET_KEY,
        "SOPWRIGHT_ALLOW_HOSTS": "127.0.0.1",
        "SOPWRIGHT_POLL_SCALE": "0.02",
        "SOPWRIGHT_LOG_LEVEL": "WARNING",
        **extra,
    }


SECRET_KEY = base64.b64encode(os.urandom(32)).decode()  # one per bench run: no key file, no warning


def settings_for(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, allow_hosts="127.0.0.1", database_url=None, secret_key=SECRET_KEY)


def set_up_account(data_dir: Path, portal: Portal, webhook_url: str, *, max_sessions: int = 2) -> Account:
    """An account like the demo's, with one Acme login (`max_sessions` at once)."""
    core = build(settings_for(data_dir))
    try:
        created = core.accounts.create("Bench Clinic", webhook_url=webhook_url)
        core.accounts.set_defaults(
            created.account.id,
            {"billing_npi": "2000000002", "provider_npi": "2000000002", "tax_id": "123456789"},
        )
        user = portal.user()
        row = core.credentials.add(
            created.account.id,
            payer="acme",
            url=portal.acme,
            username=user["username"],
            password=user["password"],
            totp_secret=user["totp_secret"],
            max_sessions=max_sessions,
        )
        return Account(created.account.id, created.api_key, created.webhook_secret, row.id)
    finally:
        core.close()


def forget_session(data_dir: Path, credential_id: str) -> None:
    """Drop the login's saved portal session: the next task signs in afresh."""
    core = build(settings_for(data_dir))
    try:
        core.credentials.save_session(credential_id, None)
    finally:
        core.close()


@dataclass
class Stack:
    """Mock portal + `sopwright serve` (+ its worker unless `worker=False`) + webhook receiver."""

    work: Path
    portal: Portal
    api_url: str
    account: Account
    receiver: Receiver

    def api(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.account.api_key}"}
        return httpx.Client(base_url=self.api_url, headers=headers, timeout=60)

    @contextlib.contextmanager
    def worker(self, concurrency: int, **env: str) -> Iterator[psutil.Process]:
        """A `sopwright worker` process, yielded once its browser is up (the root of its tree)."""
        command = [PY, "-m", "runner.cli.main", "worker", "--concurrency", str(concurrency)]
        log = self.work / f"worker-{concurrency}-{time.monotonic_ns()}.log"
        with process("worker", command, env_for(self.work, **env), log) as proc:
            root = psutil.Process(proc.pid)
            deadline = time.monotonic() + 60
            while not any("chrom" in p.name() for p in _tree(root)[1:]):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the worker's browser did not start; see {log}")
                time.sleep(0.1)
            yield root


def _tree(root: psutil.Process) -> list[psutil.Process]:
    with contextlib.suppress(psutil.Error):
        return [root, *root.children(recursive=True)]
    return [root]


def pss_mb(root: psutil.Process) -> float:
    """Proportional set size of a process and all its descendants, in MB (shared pages split)."""
    total = 0
    for proc in _tree(root):
        with contextlib.suppress(psutil.Error):
            total += proc.memory_full_info().pss
    return total / 1e6


@contextlib.contextmanager
def stack(
    *,
    latency_ms: int,
    concurrency: int = 1,
    worker: bool = True,
    max_sessions: int = 2,
    env: dict[str, str] | None = None,
    receiver: Receiver | None = None,
) -> Iterator[Stack]:
    work = Path(tempfile.mkdtemp(prefix="sopwright-bench-"))
    receiver = receiver or Receiver()
    receiver.start()
    try:
        with running_portal(work, latency_ms) as portal:
            account = set_up_account(work, portal, receiver.url, max_sessions=max_sessions)
            port = free_port()
            command = [PY, "-m", "runner.cli.main", "serve", "--port", str(port)]
            if not worker:
                command.append("--no-worker")
            extra = {"SOPWRIGHT_WORKER_CONCURRENCY": str(concurrency), **(env or {})}
            url = f"http://127.0.0.1:{port}"
            with process("API", command, env_for(work, **extra), work / "serve.log", f"{url}/healthz"):
                yield Stack(work, portal, url, account, receiver)
    finally:
        receiver.stop()
        shutil.rmtree(work, ignore_errors=True)


# -- waiting on tasks -------------------------------------------------------------------------


def post_claims(api: httpx.Client, batch: Sequence[Claim]) -> list[str]:
    ids = []
    for claim in batch:
        response = api.post("/tasks", json={"type": "submit_claim", "data": claim.task_data()})
        response.raise_for_status()
        task = response.json()
        if task["status"] != "pending":
            raise RuntimeError(
                f"a sample claim was not accepted as pending: {task['status']}: {task['notes']}"
            )
        ids.append(task["id"])
    return ids


def wait_final(api: httpx.Client, ids: Sequence[str], timeout: float) -> dict[str, dict[str, Any]]:
    """Poll until every task is final (or raise after `timeout` seconds); the tasks by id."""
    deadline = time.monotonic() + timeout
    done: dict[str, dict[str, Any]] = {}
    while True:
        for task_id in ids:
            if task_id not in done:
                task = api.get(f"/tasks/{task_id}").json()
                if task["status"] in FINAL:
                    done[task_id] = task
        if len(done) == len(ids):
            return done
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(ids) - len(done)} of {len(ids)} tasks not final after {timeout:.0f} s")
        time.sleep(0.1)


def check_completed(tasks: dict[str, dict[str, Any]]) -> None:
    wrong = [t for t in tasks.values() if t["status"] != "completed"]
    if wrong:
        raise RuntimeError(
            f"{len(wrong)} task(s) did not complete, e.g. {wrong[0]['status']}: {wrong[0]['notes']}"
        )


def when(stamp: str) -> float:
    """An API timestamp (`...Z`) as a Unix time."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def run_seconds(task: dict[str, Any]) -> float:
    """From the worker's claim (startedAt) to the final state."""
    return when(task["completedAt"] or task["failedAt"]) - when(task["startedAt"])


# -- reporting --------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[round(q) - 1] if q < 100 else ordered[-1]


def machine() -> str:
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{platform.node()}: {os.cpu_count()} CPUs ({model or platform.machine()}), load average {load}"


def show(
    title: str, columns: Sequence[str], rows: Sequence[Sequence[object]], notes: Sequence[str] = ()
) -> None:
    table = Table(*columns, title=title)
    for row in rows:
        table.add_row(*(str(cell) for cell in row))
    console.print(table)
    for note in notes:
        console.print(note)
    console.print(f"machine: {machine()}")
