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
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
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
from sqlmodel import col, select

from runner.core import db
from runner.core.pool import BrowserPool
from runner.core.settings import Settings
from runner.core.system import build
from runner.core.tables import Task
from runner.core.webhooks.receiver import Receiver

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
FINAL = {"completed", "completed_with_issues", "failed"}
console = Console(width=160)


def _stop(signum: int, _frame: object) -> None:
    """SIGTERM (`timeout`, `kill`) ends a benchmark like Ctrl-C: the `finally` blocks stop every
    process it started (Python's default would exit at once and leave them running)."""
    sys.exit(128 + signum)


if Path(sys.argv[0]).resolve().parent == Path(__file__).resolve().parent:  # a benchmark, not pytest
    signal.signal(signal.SIGTERM, _stop)


# How long a process (the portal, `serve`, a worker's browser) may take to start: on a shared 2-core
# machine at load 20+ the API's start-up alone took over 60 s.
START_SECONDS = 180.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def process(
    name: str, command: list[str], env: dict[str, str], log: Path, ready_url: str | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `command` until the block ends; with `ready_url`, wait (START_SECONDS at most) until it answers."""
    with log.open("w") as sink:
        proc = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        deadline = time.monotonic() + START_SECONDS
        while ready_url is not None:
            if proc.poll() is not None:
                raise RuntimeError(f"the {name} exited early; see {log}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(ready_url, timeout=1).status_code < 500:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the {name} did not start within {START_SECONDS:.0f} s; see {log}")
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

    def __init__(self, url: str, pid: int | None = None) -> None:
        self.url = url
        self.pid = pid  # its process, when it runs as one
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
    ready = f"{url}/_mock/payers"
    with process("mock portal", command, dict(os.environ), work / "portal.log", ready) as proc:
        portal = Portal(url, proc.pid)
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


@dataclass
class Account:
    id: str
    api_key: str
    secret: str
    credential_id: str


def env_for(data_dir: Path, database_url: str | None = None, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "SOPWRIGHT_DATA_DIR": str(data_dir),
        "SOPWRIGHT_DATABASE_URL": database_url or "",
        "SOPWRIGHT_SECRET_KEY": SECRET_KEY,
        "SOPWRIGHT_ALLOW_HOSTS": "127.0.0.1",
        "SOPWRIGHT_POLL_SCALE": "0.02",
        "SOPWRIGHT_LOG_LEVEL": "WARNING",
        **extra,
    }


SECRET_KEY = base64.b64encode(os.urandom(32)).decode()  # one per bench run: no key file, no warning


def settings_for(data_dir: Path, database_url: str | None = None) -> Settings:
    return Settings(
        data_dir=data_dir, allow_hosts="127.0.0.1", database_url=database_url, secret_key=SECRET_KEY
    )


@contextlib.contextmanager
def fresh_database(admin_url: str, prefix: str = "sopwright_bench") -> Iterator[str]:
    """A new database on the PostgreSQL server of `admin_url` (any database on it), migrated to
    head; dropped afterwards, whatever happens."""
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
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


@contextlib.contextmanager
def database(admin_url: str | None) -> Iterator[str | None]:
    """None (SQLite in the run's data directory) or a fresh PostgreSQL database (dropped after)."""
    if admin_url is None:
        yield None
        return
    if not admin_url.startswith("postgresql"):
        raise SystemExit(
            f"--database-url must be a PostgreSQL URL (postgresql+psycopg://...), not {admin_url!r}: "
            "the run creates a database of its own on that server; without it the run uses SQLite."
        )
    with fresh_database(admin_url) as url:
        yield url


def set_up_account(
    data_dir: Path,
    portal: Portal,
    webhook_url: str,
    *,
    max_sessions: int = 2,
    payers: Sequence[str] = ("acme",),
    database_url: str | None = None,
) -> Account:
    """An account like the demo's, with one login per payer (`max_sessions` at once each, no
    practical rate limit: a benchmark measures the machinery, not the limiter)."""
    core = build(settings_for(data_dir, database_url))
    try:
        created = core.accounts.create("Bench Clinic", webhook_url=webhook_url)
        core.accounts.set_defaults(
            created.account.id,
            {"billing_npi": "2000000002", "provider_npi": "2000000002", "tax_id": "123456789"},
        )
        ids = []
        for payer in payers:
            user = portal.user(payer)
            row = core.credentials.add(
                created.account.id,
                payer=payer,
                url=f"{portal.url}/{payer}",
                username=user["username"],
                password=user["password"],
                totp_secret=user["totp_secret"],
                max_sessions=max_sessions,
                rate_per_minute=100_000,
            )
            ids.append(row.id)
        return Account(created.account.id, created.api_key, created.webhook_secret, ids[0])
    finally:
        core.close()


def forget_session(data_dir: Path, credential_id: str, database_url: str | None = None) -> None:
    """Drop the login's saved portal sessions: the next task signs in afresh."""
    core = build(settings_for(data_dir, database_url))
    try:
        core.credentials.forget_sessions(credential_id)
    finally:
        core.close()


# Answers a task waiting for input: (api, task id, its problems) -> answered?
Answer = Callable[[httpx.Client, int, list[dict[str, str]]], bool]


@dataclass
class Stack:
    """Mock portal + `sopwright serve` (+ its worker unless `worker=False`) + webhook receiver."""

    work: Path
    portal: Portal
    api_url: str
    account: Account
    receiver: Receiver
    serve_pid: int
    database_url: str | None = None  # None: SQLite in `work`
    reviews: list[str] = field(default_factory=list)  # notes of reviews rejected by `wait_final`

    def api(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.account.api_key}"}
        return httpx.Client(base_url=self.api_url, headers=headers, timeout=60)

    def wait_final(
        self,
        api: httpx.Client,
        ids: Sequence[int],
        timeout: float,
        answer: Answer | None = None,
        *,
        reject_reviews: bool = False,
    ) -> dict[int, dict[str, Any]]:
        """Wait until every task is final, reading their statuses from the database (cheap, and
        not through the API whose CPU is measured); then the tasks by id, from the API. A task
        waiting for input is passed to `answer(api, id, problems)`, which answers it and returns
        True, or the wait stops with an error; so does a task waiting for a review, unless
        `reject_reviews` (then it is rejected, and its notes are kept in `self.reviews`)."""
        url = self.database_url or settings_for(self.work).resolved_database_url()
        engine = db.create_engine(url)
        answered: set[int] = set()
        deadline = time.monotonic() + timeout
        try:
            while True:
                with db.session_scope(engine, readonly=True) as session:
                    query = select(Task.public_id, Task.status, Task.problems, Task.notes).where(
                        col(Task.public_id).in_(list(ids))
                    )
                    rows = session.exec(query).all()
                open_ = [r for r in rows if r[1] not in FINAL]
                if not open_ and len(rows) == len(ids):
                    break
                for task_id, status, problems, notes in open_:
                    if status == "waiting_for_input" and task_id not in answered:
                        if answer is None or not answer(api, task_id, list(problems or [])):
                            raise RuntimeError(f"a task is waiting for input: {notes}")
                        answered.add(task_id)
                    elif status == "pending_review":
                        if not reject_reviews:
                            raise RuntimeError(f"a task is waiting for a review: {notes}")
                        # Counted, and ended (rejected: failed) so that the run can finish.
                        api.post(f"/tasks/{task_id}/review", json={"decision": "reject"}).raise_for_status()
                        self.reviews.append(str(notes))
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{len(open_)} of {len(ids)} tasks not final after {timeout:.0f} s")
                time.sleep(0.2)
        finally:
            engine.dispose()
        return {task_id: api.get(f"/tasks/{task_id}").json() for task_id in ids}

    def forget_session(self) -> None:
        """Drop the (first) login's saved portal session: its next task signs in afresh."""
        forget_session(self.work, self.account.credential_id, self.database_url)

    @contextlib.contextmanager
    def worker(self, concurrency: int, **env: str) -> Iterator[psutil.Process]:
        """A `sopwright worker` process, yielded once its browser is up (the root of its tree)."""
        command = [PY, "-m", "runner.cli.main", "worker", "--concurrency", str(concurrency)]
        log = self.work / f"worker-{concurrency}-{time.monotonic_ns()}.log"
        with process("worker", command, env_for(self.work, self.database_url, **env), log) as proc:
            root = psutil.Process(proc.pid)
            deadline = time.monotonic() + START_SECONDS
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


def kind_of(proc: psutil.Process) -> str:
    """What a process of a worker's tree is: python, driver (Playwright's node), browser (Chromium's
    main process), or Chromium's `--type=` (renderer, gpu-process, utility, zygote, ...)."""
    try:
        name, cmdline = proc.name(), proc.cmdline()
    except psutil.Error:
        return "gone"
    if "python" in name:
        return "python"
    if name.startswith("node"):
        return "driver"
    kind = next((arg.split("=", 1)[1] for arg in cmdline if arg.startswith("--type=")), None)
    if kind is not None:
        return kind
    return "browser" if "chrom" in name or "headless" in name else name


def pss_by_kind(root: psutil.Process) -> dict[str, tuple[int, float]]:
    """(processes, PSS MB) of a process tree, by `kind_of`."""
    found: dict[str, tuple[int, float]] = {}
    for proc in _tree(root):
        with contextlib.suppress(psutil.Error):
            pss = proc.memory_full_info().pss / 1e6
            count, total = found.get(kind_of(proc), (0, 0.0))
            found[kind_of(proc)] = (count + 1, total + pss)
    return found


CPU_GROUPS = ("worker", "driver", "chromium", "api", "portal")


def _cpu_of(proc: psutil.Process) -> float:
    """CPU seconds of a process, counting the children it has reaped (an exited renderer's time
    moves to its parent's cumulative children times, so nothing is lost between two readings)."""
    with contextlib.suppress(psutil.Error):
        t = proc.cpu_times()
        return t.user + t.system + t.children_user + t.children_system
    return 0.0


def cpu_seconds(roots: dict[str, psutil.Process]) -> dict[str, float]:
    """CPU seconds so far by group: a root named "worker" is split into the worker's Python, the
    Playwright driver and Chromium (every process of the browser); other roots count whole."""
    found = dict.fromkeys(CPU_GROUPS, 0.0)
    for name, root in roots.items():
        for proc in _tree(root):
            group = name
            if name == "worker":
                kind = kind_of(proc)
                group = "worker" if kind == "python" else "driver" if kind == "driver" else "chromium"
            found[group] = found.get(group, 0.0) + _cpu_of(proc)
    return found


class CpuMeter:
    """CPU seconds by group (`cpu_seconds`) spent while the block runs: read before and after."""

    def __init__(self, roots: dict[str, psutil.Process]) -> None:
        self.roots = roots
        self.spent: dict[str, float] = {}

    def __enter__(self) -> CpuMeter:
        self._before = cpu_seconds(self.roots)
        return self

    def __exit__(self, *_exc: object) -> None:
        after = cpu_seconds(self.roots)
        self.spent = {k: after[k] - self._before.get(k, 0.0) for k in after}


class KeptBrowser(BrowserPool):
    """One Chromium for a whole in-process run: a worker starts its browser each time it runs and
    stops it when it drains the queue; this one starts once and stops at `close`."""

    started = False

    async def start(self) -> None:
        if not self.started:
            self.started = True
            await super().start()

    async def stop(self) -> None:
        return None

    async def close(self) -> None:
        await super().stop()


@contextlib.contextmanager
def stack(
    *,
    latency_ms: int,
    concurrency: int = 1,
    worker: bool = True,
    max_sessions: int = 2,
    env: dict[str, str] | None = None,
    receiver: Receiver | None = None,
    payers: Sequence[str] = ("acme",),
    fixtures: Callable[[Path], Path] | None = None,
    database_url: str | None = None,
) -> Iterator[Stack]:
    """Everything a system benchmark needs; `fixtures(work)` may write the portal's seed data;
    `database_url`: a PostgreSQL server to make a fresh database on (default SQLite)."""
    work = Path(tempfile.mkdtemp(prefix="sopwright-bench-"))
    receiver = receiver or Receiver()
    receiver.start()
    try:
        seed = fixtures(work) if fixtures is not None else None
        with database(database_url) as url, running_portal(work, latency_ms, seed) as portal:
            account = set_up_account(
                work, portal, receiver.url, max_sessions=max_sessions, payers=payers, database_url=url
            )
            port = free_port()
            command = [PY, "-m", "runner.cli.main", "serve", "--port", str(port)]
            if not worker:
                command.append("--no-worker")
            extra = {"SOPWRIGHT_WORKER_CONCURRENCY": str(concurrency), **(env or {})}
            api_url = f"http://127.0.0.1:{port}"
            serve_env = env_for(work, url, **extra)
            with process("API", command, serve_env, work / "serve.log", f"{api_url}/healthz") as serve:
                yield Stack(work, portal, api_url, account, receiver, serve.pid, url)
    finally:
        receiver.stop()
        if os.environ.get("BENCH_KEEP"):  # the worker, API and portal logs, the database
            print(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


# -- waiting on tasks -------------------------------------------------------------------------


def post_claims(api: httpx.Client, batch: Sequence[Claim]) -> list[int]:
    ids = []
    for claim in batch:
        response = api.post("/tasks", json={"type": "submit_claim", "data": claim.task_data()})
        response.raise_for_status()
        task = response.json()
        if task["status"] in ("waiting_for_input", "failed"):  # else pending, or already claimed
            raise RuntimeError(f"a sample claim was refused ({task['status']}): {task['notes']}")
        ids.append(task["id"])
    return ids


def check_completed(tasks: dict[int, dict[str, Any]]) -> None:
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


# -- the mock portal's counts -----------------------------------------------------------------


def page_loads(portal: Portal, payer: str | None = None) -> int:
    """Pages and frames the portal served since its last reset (every payer, or one): its traffic
    inspection API (`GET /_mock/traffic`). A POST answered by a redirect counts twice (two
    requests); a script's fetch() and static files do not count."""
    counts = portal.admin.get("/_mock/traffic").json()["page_loads"]
    return sum(n for key, dests in counts.items() if payer in (None, key) for n in dests.values())
