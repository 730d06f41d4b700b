"""Concurrency: 40 claims at worker concurrency 1, 2, 4 and 8, the portal adding 300 ms per page.

    .venv/bin/python bench/concurrency.py [--tasks 40] [--levels 1,2,4,8] [--latency-ms 300]

One `sopwright serve --no-worker` and, per level, one `sopwright worker --concurrency N` (one
Chromium, one context per task) on one Acme login allowed N sessions. Each level first runs one
warm-up task (the worker's first context; the login's session is saved), then the N claims are
posted at once and timed from the first POST to the last final state. Memory: the PSS of the
worker process and all its descendants (Playwright's driver, Chromium's browser, GPU, network and
renderer processes), summed, sampled every 0.5 s; "per extra task" is (peak at N - peak at 1) /
(N - 1). Targets: throughput at 8 >= 5x concurrency 1 (on 2 cores); <= 80 MB per extra task.
"""

from __future__ import annotations

import argparse
import threading
import time

import psutil
from claims import claims
from harness import check_completed, post_claims, pss_mb, show, stack, wait_final, when


class Sampler:
    """Peak PSS of a process tree and the machine's CPU use, sampled in a thread."""

    def __init__(self, root: psutil.Process, every: float = 0.5) -> None:
        self.root, self.every = root, every
        self.peak = 0.0
        self.cpu: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        psutil.cpu_percent()
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.peak = max(self.peak, pss_mb(self.root))
            self.cpu.append(psutil.cpu_percent())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=40)
    parser.add_argument("--levels", default="1,2,4,8")
    parser.add_argument("--latency-ms", type=int, default=300)
    parser.add_argument("--timeout", type=float, default=1200, help="seconds per level")
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for the workers (repeat)")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    env = dict(item.split("=", 1) for item in args.env)
    results = []
    with stack(latency_ms=args.latency_ms, worker=False, max_sessions=max(levels)) as s, s.api() as api:
        for index, level in enumerate(levels):
            with s.worker(level, **env) as root:
                wait_final(api, post_claims(api, claims(1, first=90_000 + index)), args.timeout)
                idle = pss_mb(root)
                with Sampler(root) as sampler:
                    start = time.time()
                    ids = post_claims(api, claims(args.tasks, first=1000 * (index + 1)))
                    tasks = wait_final(api, ids, args.timeout)
                check_completed(tasks)
                elapsed = max(when(t["completedAt"]) for t in tasks.values()) - start
                cpu = sum(sampler.cpu) / max(1, len(sampler.cpu))
                results.append((level, elapsed, idle, max(sampler.peak, idle), cpu))
            print(f"concurrency {level}: {elapsed:.1f} s", flush=True)
    base_time, base_peak = results[0][1], results[0][3]
    rows = []
    for level, elapsed, idle, peak, cpu in results:
        per_extra = f"{(peak - base_peak) / (level - 1):.0f}" if level > 1 else "-"
        rows.append(
            (
                level,
                f"{elapsed:.1f}",
                f"{args.tasks / elapsed * 60:.1f}",
                f"{base_time / elapsed:.2f}x",
                f"{idle:.0f}",
                f"{peak:.0f}",
                per_extra,
                f"{cpu:.0f}%",
            )
        )
    show(
        f"Concurrency: {args.tasks} claims per level, portal latency {args.latency_ms} ms "
        + " ".join(args.env),
        [
            "concurrency",
            "time s",
            "tasks/min",
            "vs 1",
            "idle PSS MB",
            "peak PSS MB",
            "MB per extra task",
            "CPU",
        ],
        rows,
        [
            "targets: >= 5x at concurrency 8; <= 80 MB PSS per extra concurrent task",
            "PSS: worker process + every descendant (driver, Chromium processes); CPU: whole machine",
        ],
    )


if __name__ == "__main__":
    main()
