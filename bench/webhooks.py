"""Webhooks: time from a task's final state to the receiver's request, p50 and p99.

    .venv/bin/python bench/webhooks.py [--tasks 200] [--gap-ms 50] [--database-url URL]
                                       [--paths in-process,cross-process] [--idle-seconds 60]

`sopwright serve --no-worker` (the API and a webhook dispatcher in one process, as `serve` runs
them) and a local receiver that verifies every signature. Tasks reach a final state without a
browser, one every `--gap-ms` (on a fixed schedule: 20 a second by default, for every path), so
the moments fall anywhere in the dispatcher's cycle:

- `in-process`: each task is cancelled through the API, in the dispatcher's own process (the
  commit wakes it there; on PostgreSQL a NOTIFY is sent as well);
- `cross-process`: each task is cancelled by another process (this one, through `runner.core`,
  as a worker or a CLI command would, with no dispatcher of its own): on PostgreSQL the serve
  process's dispatcher is woken by LISTEN/NOTIFY, on SQLite by its look at `PRAGMA
  data_version` (runner/core/webhooks/watcher.py).

With `--idle-seconds` (SQLite), first the price of that look: the CPU, over that many seconds with
nothing to send, of processes that run one dispatcher each (nothing else), with the look off (the
1 s poll only) and on, side by side in the same window.

The final state's time is the task's own `failedAt` (the transaction that also writes the
delivery to the outbox); the other time is when the receiver got the request. No portal is
involved. With `--database-url` (a PostgreSQL server), a fresh database is created on it for the
run and dropped afterwards; without, a SQLite file in a temporary directory.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
from claims import claims
from harness import (
    PY,
    ROOT,
    SECRET_KEY,
    env_for,
    free_port,
    fresh_database,
    percentile,
    post_claims,
    process,
    show,
    when,
)

from runner.core.settings import Settings
from runner.core.system import System, build
from runner.core.webhooks.receiver import Received, Receiver

PATHS = ("in-process", "cross-process")
WATCHES = (("off (1 s poll only)", 0.0), ("PRAGMA data_version every 50 ms", 0.05))


@contextlib.contextmanager
def database(server_url: str | None, work: Path) -> Iterator[str]:
    if server_url is None:
        yield f"sqlite:///{work / 'sopwright.db'}"
        return
    with fresh_database(server_url) as url:
        yield url


class Arrivals:
    """When each webhook-id first reached the receiver."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self._lock = threading.Lock()

    def stamp(self, request: Received) -> None:
        now = time.time()
        with self._lock:
            self.at.setdefault(request.webhook_id, now)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=200, help="per path")
    parser.add_argument("--gap-ms", type=float, default=50, help="between two final states")
    parser.add_argument("--database-url", help="a PostgreSQL server (a fresh database is made on it)")
    parser.add_argument("--paths", default=",".join(PATHS), help="comma-separated: " + ", ".join(PATHS))
    parser.add_argument("--idle-seconds", type=float, default=0, help="SQLite: idle dispatchers' CPU first")
    parser.add_argument("--idle-child", type=float, help=argparse.SUPPRESS)  # one idle dispatcher
    args = parser.parse_args()
    if args.idle_child is not None:
        idle_child(args.idle_child)
        return
    paths = [p.strip() for p in args.paths.split(",") if p.strip()]
    if unknown := sorted(set(paths) - set(PATHS)):
        parser.error(f"unknown path(s) {', '.join(unknown)}; choose from {', '.join(PATHS)}")

    arrivals = Arrivals()
    receiver = Receiver(on_request=arrivals.stamp)
    rows: list[tuple[object, ...]] = []
    with receiver.running(), running(args.database_url, receiver.url) as bench:
        if args.idle_seconds > 0 and bench.database == "SQLite":
            show(
                f"Webhooks: one idle dispatcher per process, {args.idle_seconds:g} s with nothing to send",
                ["look for other processes' commits", "CPU s", "% of one core", "load avg (1 min)"],
                idle(bench, args.idle_seconds),
                ["user + system CPU of each process over the same window (psutil)"],
            )
        for path in paths:
            lags, load = measure(bench, path, arrivals, receiver, args.tasks, args.gap_ms)
            rows.append((bench.database, path, *figures(lags), load))
    columns = ["database", "path", "deliveries", "p50 ms", "p99 ms", "mean ms", "min ms", "max ms"]
    show(
        f"Webhooks: final state -> receiver, one final state every {args.gap_ms:g} ms",
        [*columns, "load avg (1 min)"],
        rows,
        [
            "every delivery verified with the account's secret (standardwebhooks); the load average "
            "at the start and at the end of each row"
        ],
    )


@dataclass
class Bench:
    database: str
    env: dict[str, str]  # what a `sopwright` process needs to open the database
    core: System  # this process's wiring: no dispatcher runs here
    api: httpx.Client
    account_id: str
    secret: str

    def cancel(self, path: str, task_id: int) -> None:
        if path == "in-process":
            self.api.post(f"/tasks/{task_id}/cancel", json={"reason": "bench"}).raise_for_status()
        else:
            self.core.tasks.cancel(self.account_id, task_id, reason="bench", actor="bench")


@contextlib.contextmanager
def running(server_url: str | None, receiver_url: str) -> Iterator[Bench]:
    """A database, an account, and `sopwright serve --no-worker` on it; all gone afterwards."""
    work = Path(tempfile.mkdtemp(prefix="sopwright-bench-"))
    try:
        with database(server_url, work) as url:
            settings = Settings(
                data_dir=work, database_url=url, secret_key=SECRET_KEY, allow_hosts="127.0.0.1"
            )
            core = build(settings)
            try:
                account_id, api_key, secret = set_up(core, receiver_url)
                port = free_port()
                command = [PY, "-m", "runner.cli.main", "serve", "--no-worker", "--port", str(port)]
                env = env_for(work, SOPWRIGHT_DATABASE_URL=url)
                api_url = f"http://127.0.0.1:{port}"
                headers = {"Authorization": f"Bearer {api_key}"}
                with (
                    process("API", command, env, work / "serve.log", f"{api_url}/healthz"),
                    httpx.Client(base_url=api_url, headers=headers, timeout=60) as api,
                ):
                    name = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
                    yield Bench(name, env, core, api, account_id, secret)
            finally:
                core.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def set_up(core: System, receiver_url: str) -> tuple[str, str, str]:
    """An account with the webhook URL, and the defaults and the portal login the sample claims
    need (no worker runs: the login's portal is never reached)."""
    created = core.accounts.create("Bench Clinic", webhook_url=receiver_url)
    core.accounts.set_defaults(
        created.account.id, {"billing_npi": "2000000002", "provider_npi": "2000000002", "tax_id": "123456789"}
    )
    core.credentials.add(
        created.account.id,
        payer="acme",
        url="http://127.0.0.1:9/acme",
        username="bench",
        password="bench",
        totp_secret=None,
    )
    return created.account.id, created.api_key, created.webhook_secret


def measure(
    bench: Bench, path: str, arrivals: Arrivals, receiver: Receiver, tasks: int, gap_ms: float
) -> tuple[list[float], str]:
    """Make `tasks` new tasks final along `path`; each one's lag from `failedAt` to its arrival."""
    before = len(receiver.received)
    ids = post_claims(bench.api, claims(tasks, first=before))
    load_start = os.getloadavg()[0]
    start = time.monotonic()
    for index, task_id in enumerate(ids):
        # On a fixed schedule, whatever one cancel costs: every path gets the same rate.
        time.sleep(max(0.0, start + index * gap_ms / 1000 - time.monotonic()))
        bench.cancel(path, task_id)
    received = receiver.wait_for(before + len(ids), timeout=120)[before:]
    load_end = os.getloadavg()[0]
    lags: dict[str, float] = {}
    for request in received:
        event = request.verify(bench.secret)
        lag = (arrivals.at[request.webhook_id] - when(event["data"]["failedAt"])) * 1000
        lags.setdefault(request.webhook_id, lag)  # a retry of a delivery already counted is not
    if len(lags) < len(ids):
        raise RuntimeError(f"only {len(lags)} of {len(ids)} webhooks arrived within 120 s")
    return list(lags.values()), f"{load_start:.1f} -> {load_end:.1f}"


def idle(bench: Bench, seconds: float) -> list[tuple[object, ...]]:
    """Each `WATCHES` row's dispatcher process, CPU seconds over the same `seconds` of idleness."""
    command = [PY, str(Path(__file__).resolve()), "--idle-child"]
    children = [
        subprocess.Popen(
            [*command, str(interval)], env=bench.env, stdout=subprocess.PIPE, text=True, cwd=ROOT
        )
        for _, interval in WATCHES
    ]
    try:
        for child in children:
            assert child.stdout is not None
            if child.stdout.readline().strip() != "ready":
                raise RuntimeError("an idle dispatcher process did not start")
        time.sleep(2)  # past their first rounds
        load_start = os.getloadavg()[0]
        before = [cpu_seconds(child) for child in children]
        time.sleep(seconds)
        used = [cpu_seconds(child) - start for child, start in zip(children, before, strict=True)]
        load = f"{load_start:.1f} -> {os.getloadavg()[0]:.1f}"
    finally:
        for child in children:
            child.terminate()  # SIGTERM: the dispatcher stops as the CLI's does
        for child in children:
            child.wait(timeout=30)
    return [
        (label, f"{cpu:.2f}", f"{cpu / seconds * 100:.2f}", load)
        for (label, _), cpu in zip(WATCHES, used, strict=True)
    ]


def cpu_seconds(child: subprocess.Popen[str]) -> float:
    times = psutil.Process(child.pid).cpu_times()
    return float(times.user + times.system)


def idle_child(watch_interval: float) -> None:
    """One dispatcher on the database the environment names, until SIGTERM (as `webhooks dispatch`)."""
    core = build(Settings())
    signals = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    try:
        with core.webhooks.dispatcher(watch_interval=watch_interval).in_background():
            print("ready", flush=True)
            signal.sigwait(signals)
    finally:
        core.close()


def figures(lags: list[float]) -> tuple[object, ...]:
    return (
        len(lags),
        f"{percentile(lags, 50):.0f}",
        f"{percentile(lags, 99):.0f}",
        f"{statistics.mean(lags):.0f}",
        f"{min(lags):.0f}",
        f"{max(lags):.0f}",
    )


if __name__ == "__main__":
    main()
