"""Overhead: N claims through the whole system against a hand-written Playwright script.

    .venv/bin/python bench/overhead.py [--claims 20] [--latency-ms 0]

Both sides submit the same N claims (member SYN100001, one service line) to the same mock portal
with the same latency; the portal is reset in between so the second side's claims are not
duplicates. The script logs in once (timed) and submits the claims on one page. The system gets
the N tasks through `POST /tasks` at worker concurrency 1 and is timed from the first POST to the
last webhook received by a local receiver. Target: system / script <= 1.2 per claim.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import threading
import time

from harness import check_completed, claims, post_claims, run_seconds, show, stack, wait_final, when
from minimal import playwright_script

from runner.core.webhooks.receiver import Received, Receiver


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=20)
    parser.add_argument("--latency-ms", type=int, default=0, help="portal latency per page (both sides)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds for the system's N tasks")
    args = parser.parse_args()
    n = args.claims
    receipts: list[float] = []
    lock = threading.Lock()

    def stamp(_request: Received) -> None:
        with lock:
            receipts.append(time.time())

    batch = claims(n)
    with stack(latency_ms=args.latency_ms, concurrency=1, receiver=Receiver(on_request=stamp)) as s:
        user = s.portal.user()
        script = asyncio.run(playwright_script(s.portal.acme, user, batch))
        s.portal.reset(latency_ms=args.latency_ms)
        with s.api() as api:
            start = time.time()
            ids = post_claims(api, batch)
            tasks = wait_final(api, ids, args.timeout)
            s.receiver.wait_for(n, timeout=30)
        check_completed(tasks)
        if len(receipts) < n:
            raise RuntimeError(f"only {len(receipts)} of {n} webhooks arrived")
        system_total = max(receipts[:n]) - start

    runs = [run_seconds(t) for t in tasks.values()]
    queued = [when(t["startedAt"]) - when(t["createdAt"]) for t in tasks.values()]
    script_per = script.total / n
    system_per = system_total / n
    rows = [
        (
            "hand-written Playwright script",
            f"{script.login:.2f}",
            f"{statistics.median(script.per_claim):.2f}",
            f"{script.total:.1f}",
            f"{script_per:.2f}",
            "1.00",
        ),
        (
            "sopwright: API -> worker -> portal -> webhook",
            "(in the first task)",
            f"{statistics.median(runs):.2f} (worker run)",
            f"{system_total:.1f}",
            f"{system_per:.2f}",
            f"{system_per / script_per:.2f}",
        ),
    ]
    show(
        f"Overhead: {n} claims, concurrency 1, portal latency {args.latency_ms} ms",
        ["side", "login s", "median per claim s", "total s", "per claim s (total / N)", "ratio"],
        rows,
        [
            f"target: ratio <= 1.2 — measured {system_per / script_per:.2f}",
            f"system: first task claimed {min(queued):.2f} s after its POST; worker run per task "
            f"min {min(runs):.2f} / max {max(runs):.2f} s",
        ],
    )


if __name__ == "__main__":
    main()
