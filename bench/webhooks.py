"""Webhooks: time from a task's final state to the receiver's 2xx, p50 and p99.

    .venv/bin/python bench/webhooks.py [--tasks 200] [--gap-ms 50]

`sopwright serve --no-worker` (API and the webhook dispatcher in one process, as `serve` runs
them) and a local receiver that verifies every signature. Tasks reach a final state without a
browser: each is created (pending) and then cancelled through the API (`failed`), one every
`--gap-ms`, so the moments fall anywhere in the dispatcher's polling cycle. The final state's
time is the task's own `failedAt` (the transaction that also writes the delivery to the outbox);
the 2xx time is when the receiver got the request. The portal is not involved.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

from claims import claims
from harness import percentile, post_claims, show, stack, when

from runner.core.webhooks.receiver import Received, Receiver


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--gap-ms", type=float, default=50, help="between two final states")
    args = parser.parse_args()
    arrived: dict[str, float] = {}
    lock = threading.Lock()

    def stamp(request: Received) -> None:
        now = time.time()
        with lock:
            arrived.setdefault(request.webhook_id, now)

    receiver = Receiver(on_request=stamp)
    with stack(latency_ms=0, worker=False, receiver=receiver) as s, s.api() as api:
        ids = post_claims(api, claims(args.tasks))
        for task_id in ids:
            api.post(f"/tasks/{task_id}/cancel", json={"reason": "bench"}).raise_for_status()
            time.sleep(args.gap_ms / 1000)
        deadline = time.monotonic() + 60
        while len(arrived) < len(ids) and time.monotonic() < deadline:
            time.sleep(0.05)
        received = list(receiver.received)
    lags, seen = [], set()
    for request in received:
        if request.webhook_id in seen:
            continue  # a retry of a delivery already counted
        seen.add(request.webhook_id)
        event = request.verify(s.account.secret)
        lags.append((arrived[request.webhook_id] - when(event["data"]["failedAt"])) * 1000)
    if len(lags) < len(ids):
        raise RuntimeError(f"only {len(lags)} of {len(ids)} webhooks arrived")
    show(
        f"Webhooks: final state -> 2xx, one task every {args.gap_ms:g} ms",
        ["deliveries", "p50 ms", "p99 ms", "mean ms", "min ms", "max ms"],
        [
            (
                len(lags),
                f"{percentile(lags, 50):.0f}",
                f"{percentile(lags, 99):.0f}",
                f"{statistics.mean(lags):.0f}",
                f"{min(lags):.0f}",
                f"{max(lags):.0f}",
            )
        ],
        ["every delivery verified with the account's secret (standardwebhooks)"],
    )


if __name__ == "__main__":
    main()
