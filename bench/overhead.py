"""Overhead: N claims through the whole system against a hand-written Playwright script.

    .venv/bin/python bench/overhead.py [--claims 20] [--latency-ms 300] [--no-variant]

Every side submits the same N claims (member SYN100001, one service line) to the same mock portal
with the same latency; the portal is reset between sides so the claims are never duplicates. The
script logs in once (timed) and submits the claims on one page. The system gets the N tasks
through `POST /tasks` (`sopwright serve --no-worker` plus one `sopwright worker --concurrency 1`,
its browser already started, as the embedded worker's would be) and is timed from the first POST
to the last webhook received by a local receiver. A second system row runs with
`SOPWRIGHT_TRACE=off`, to show what tracing still costs (none on first attempts by default).
Page loads per claim are the portal's count of browser navigations (pages and frames, every
redirect hop), the script's login and the system's first sign-in spread over the N claims.
Target: system / script <= 1.2 per claim; page loads at most the script's + 1.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import threading
import time

from claims import Claim, claims
from harness import Stack, check_completed, post_claims, run_seconds, show, stack, wait_final, when
from minimal import playwright_script

from runner.core.webhooks.receiver import Received, Receiver

VARIANTS = [
    ("sopwright, default settings", {}),
    ("sopwright, SOPWRIGHT_TRACE=off", {"SOPWRIGHT_TRACE": "off"}),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=20)
    parser.add_argument("--latency-ms", type=int, default=300, help="portal latency per page (every side)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds for the system's N tasks")
    parser.add_argument("--no-variant", action="store_true", help="skip the SOPWRIGHT_TRACE=off row")
    args = parser.parse_args()
    n = args.claims
    receipts: list[float] = []
    lock = threading.Lock()

    def stamp(_request: Received) -> None:
        with lock:
            receipts.append(time.time())

    batch = claims(n)
    rows = []
    notes = []
    with stack(latency_ms=args.latency_ms, worker=False, receiver=Receiver(on_request=stamp)) as s:
        script = asyncio.run(playwright_script(s.portal.acme, s.portal.user(), batch))
        script_loads = s.portal.page_loads()
        script_per = script.total / n
        rows.append(
            (
                "hand-written Playwright script",
                f"{script.login:.2f}",
                f"{statistics.median(script.per_claim):.2f}",
                f"{script.total:.1f}",
                f"{script_per:.2f}",
                "1.00",
                _per(script_loads, n),
            )
        )
        for label, env in VARIANTS[: 1 if args.no_variant else None]:
            total, runs, first_claim, loads = _system(s, batch, env, receipts, args.timeout, args.latency_ms)
            rows.append(
                (
                    label,
                    "(in task 1)",
                    f"{statistics.median(runs):.2f} (worker run)",
                    f"{total:.1f}",
                    f"{total / n:.2f}",
                    f"{total / n / script_per:.2f}",
                    _per(loads, n),
                )
            )
            notes.append(
                f"{label}: first task claimed {first_claim:.2f} s after its POST; worker run per task "
                f"min {min(runs):.2f} / max {max(runs):.2f} s"
            )
    show(
        f"Overhead: {n} claims, concurrency 1, portal latency {args.latency_ms} ms",
        [
            "side",
            "login s",
            "median per claim s",
            "total s",
            "per claim s (total / N)",
            "ratio",
            "page loads / claim",
        ],
        rows,
        ["target: ratio <= 1.2", *notes],
    )


def _system(
    s: Stack, batch: list[Claim], env: dict[str, str], receipts: list[float], timeout: float, latency: int
) -> tuple[float, list[float], float, int | None]:
    n = len(batch)
    with s.worker(1, **env), s.api() as api:
        # One task first (the worker's first context and imports), then a fresh portal: the
        # measured claims start signed out, as the script did, and are not duplicates.
        wait_final(api, post_claims(api, claims(1, first=90_000)), timeout)
        s.portal.reset(latency_ms=latency)
        time.sleep(0.5)  # the warm-up's webhook
        receipts.clear()
        start = time.time()
        ids = post_claims(api, batch)
        tasks = wait_final(api, ids, timeout)
        loads = s.portal.page_loads()
        deadline = time.monotonic() + 30
        while len(receipts) < n and time.monotonic() < deadline:
            time.sleep(0.05)
    check_completed(tasks)
    if len(receipts) < n:
        raise RuntimeError(f"only {len(receipts)} of {n} webhooks arrived")
    runs = [run_seconds(t) for t in tasks.values()]
    first_claim = min(when(t["startedAt"]) for t in tasks.values()) - start
    return max(receipts[:n]) - start, runs, first_claim, loads


def _per(loads: int | None, n: int) -> str:
    return "n/a" if loads is None else f"{loads / n:.2f}"


if __name__ == "__main__":
    main()
