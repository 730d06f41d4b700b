"""Overhead: N claims through the whole system against a hand-written Playwright script.

    .venv/bin/python bench/overhead.py [--claims 20] [--latency-ms 300] [--no-variant]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

Every side submits the same N claims (member SYN100001, one service line) to the same mock portal
with the same latency; the portal is reset between sides so the claims are never duplicates. The
script logs in once (timed) and submits the claims on one page. The system gets the N tasks
through `POST /tasks` (`sopwright serve --no-worker` plus one `sopwright worker --concurrency 1`,
its browser already started, as the embedded worker's would be) and is timed from the first POST
to the last webhook received by a local receiver. A second system row runs with
`SOPWRIGHT_TRACE=off`, to show what tracing still costs (none on first attempts by default), and a
third with `SOPWRIGHT_WARM_CONTEXT_SECONDS=0` (a new browser context per task), to show what warm
contexts save.
Beside the times: CPU seconds per claim by process (the script's or the worker's Python,
Playwright's driver, Chromium, the API server, the mock portal) and page loads per claim (the
mock portal's count, sign-in included). With `--database-url` (a PostgreSQL server) the system
uses a database of its own made there for the run and dropped after; without it, SQLite.
Target: system / script <= 1.2 per claim.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import threading
import time
from dataclasses import dataclass

import psutil
from claims import Claim, claims
from harness import (
    CPU_GROUPS,
    CpuMeter,
    Stack,
    check_completed,
    page_loads,
    post_claims,
    run_seconds,
    show,
    stack,
    when,
)
from minimal import playwright_script

from runner.core.webhooks.receiver import Received, Receiver

TARGETS = "targets (issue 12): ratio <= 1.3 at 300 ms portal latency, <= 2.0 at 0 ms"
VARIANTS = [
    ("sopwright, default settings", {}),
    ("sopwright, SOPWRIGHT_TRACE=off", {"SOPWRIGHT_TRACE": "off"}),
    ("sopwright, no warm contexts", {"SOPWRIGHT_WARM_CONTEXT_SECONDS": "0"}),
    ("sopwright, SOPWRIGHT_SCREENSHOTS=final", {"SOPWRIGHT_SCREENSHOTS": "final"}),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=20)
    parser.add_argument("--latency-ms", type=int, default=300, help="portal latency per page (every side)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds for the system's N tasks")
    parser.add_argument(
        "--no-variant", action="store_true", help="skip the rows with tracing off and with no warm contexts"
    )
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server (default: SQLite)")
    args = parser.parse_args()
    n = args.claims
    receipts: list[float] = []
    lock = threading.Lock()

    def stamp(_request: Received) -> None:
        with lock:
            receipts.append(time.time())

    batch = claims(n)
    rows, cpu_rows, notes = [], [], []
    with stack(
        latency_ms=args.latency_ms,
        worker=False,
        receiver=Receiver(on_request=stamp),
        database_url=args.database_url,
    ) as s:
        before = page_loads(s.portal)
        portal = {"portal": psutil.Process(s.portal.pid)}
        script = asyncio.run(playwright_script(s.portal.acme, s.portal.user(), batch, portal))
        script_pages = page_loads(s.portal) - before
        script_per = script.total / n
        rows.append(
            (
                "hand-written Playwright script",
                f"{script.login:.2f}",
                f"{statistics.median(script.per_claim):.2f}",
                f"{script.total:.1f}",
                f"{script_per:.2f}",
                "1.00",
                f"{script_pages / n:.1f}",
            )
        )
        cpu_rows.append(_cpu_row("hand-written Playwright script", script.cpu, n))
        for label, env in VARIANTS[: 1 if args.no_variant else None]:
            side = _system(s, batch, env, receipts, args.timeout, args.latency_ms)
            rows.append(
                (
                    label,
                    "(in task 1)",
                    f"{statistics.median(side.runs):.2f} (worker run)",
                    f"{side.total:.1f}",
                    f"{side.total / n:.2f}",
                    f"{side.total / n / script_per:.2f}",
                    f"{side.pages / n:.1f}",
                )
            )
            cpu_rows.append(_cpu_row(label, side.cpu, n))
            notes.append(
                f"{label}: first task claimed {side.first_claim:.2f} s after its POST; worker run per task "
                f"min {min(side.runs):.2f} / max {max(side.runs):.2f} s"
            )
    database = "PostgreSQL" if args.database_url else "SQLite"
    show(
        f"Overhead: {n} claims, concurrency 1, portal latency {args.latency_ms} ms, {database}",
        [
            "side",
            "login s",
            "median per claim s",
            "total s",
            "per claim s (total / N)",
            "ratio",
            "pages/claim",
        ],
        rows,
        [TARGETS, "pages/claim: the mock portal's page loads / N, sign-in included", *notes],
    )
    show(
        "CPU seconds per claim, by process (login to last claim; system: first POST to last webhook)",
        [
            "side",
            "Python (script / worker)",
            "Playwright driver",
            "Chromium",
            "API server",
            "mock portal",
            "all",
        ],
        cpu_rows,
    )


def _cpu_row(label: str, spent: dict[str, float], n: int) -> tuple[str, ...]:
    cells = [f"{spent[g] / n:.2f}" if g in spent and (g != "api" or spent[g]) else "-" for g in CPU_GROUPS]
    return (label, *cells, f"{sum(spent.values()) / n:.2f}")


@dataclass
class Side:
    total: float
    runs: list[float]
    first_claim: float
    pages: int
    cpu: dict[str, float]


def _system(
    s: Stack, batch: list[Claim], env: dict[str, str], receipts: list[float], timeout: float, latency: int
) -> Side:
    n = len(batch)
    with s.worker(1, **env) as root, s.api() as api:
        # One task first (the worker's first context and imports), then a fresh portal: the
        # measured claims start signed out, as the script did, and are not duplicates.
        s.wait_final(api, post_claims(api, claims(1, first=90_000)), timeout)
        s.portal.reset(latency_ms=latency)
        time.sleep(0.5)  # the warm-up's webhook
        receipts.clear()
        roots = {"worker": root, "api": psutil.Process(s.serve_pid), "portal": psutil.Process(s.portal.pid)}
        before = page_loads(s.portal)
        with CpuMeter(roots) as meter:
            start = time.time()
            ids = post_claims(api, batch)
            tasks = s.wait_final(api, ids, timeout)
            deadline = time.monotonic() + 30
            while len(receipts) < n and time.monotonic() < deadline:
                time.sleep(0.05)
        pages = page_loads(s.portal) - before
    check_completed(tasks)
    if len(receipts) < n:
        raise RuntimeError(f"only {len(receipts)} of {n} webhooks arrived")
    runs = [run_seconds(t) for t in tasks.values()]
    first_claim = min(when(t["startedAt"]) for t in tasks.values()) - start
    return Side(max(receipts[:n]) - start, runs, first_claim, pages, meter.spent)


if __name__ == "__main__":
    main()
