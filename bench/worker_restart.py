"""Worker restart: sign-ins after a restart at concurrency N, with every session slot's session
saved (now) against only slot 0's (as before migration 0013).

    .venv/bin/python bench/worker_restart.py [--concurrency 8] [--latency-ms 300]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

One mock portal, one `sopwright serve --no-worker`, one Acme login allowed N sessions. Three waves
of N claims, each posted at once to a new `sopwright worker --concurrency N` (a restart: no warm
context survives it): the first starts cold (every slot signs in); before the second nothing is
touched (each slot restores its own saved session); before the third the sessions of slots 1 to
N-1 are deleted, which is what a restart left before each slot had its own (only slot 0's was
saved). Printed per wave: sign-ins (the portal's password form posts), page loads per claim, and
the wave's time from the first POST to the last final state. The portal's sessions outlive the
restarts (its idle timeout is 15 minutes of its clock).
"""

from __future__ import annotations

import argparse
import time

from claims import claims
from harness import check_completed, post_claims, settings_for, show, stack, when

from runner.core.system import build


def sign_ins(loads: list[dict[str, str]]) -> int:
    return sum(1 for load in loads if load["method"] == "POST" and load["path"] == "/acme/login")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--latency-ms", type=int, default=300)
    parser.add_argument("--timeout", type=float, default=300, help="seconds per wave")
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server (default: SQLite)")
    args = parser.parse_args()
    n = args.concurrency
    batches = [claims(n, first=wave * n) for wave in range(3)]
    waves = ("cold start", "restart, every slot's session saved (now)", "restart, slot 0's only (before)")
    rows = []
    with (
        stack(latency_ms=args.latency_ms, worker=False, max_sessions=n, database_url=args.database_url) as s,
        s.api() as api,
    ):
        for name, batch in zip(waves, batches, strict=True):
            if batch is batches[2]:
                core = build(settings_for(s.work, s.database_url))
                try:
                    for slot in range(1, n):
                        core.credentials.save_session(s.account.credential_id, slot, None)
                finally:
                    core.close()
            seen = len(s.portal.recent_loads())
            with s.worker(n):
                start = time.time()
                ids = post_claims(api, batch)
                tasks = s.wait_final(api, ids, args.timeout)
                check_completed(tasks)
                seconds = max(when(t["completedAt"]) for t in tasks.values()) - start
            loads = s.portal.recent_loads()[seen:]
            rows.append((name, sign_ins(loads), f"{len(loads) / n:.1f}", f"{seconds:.1f}"))
    show(
        f"Worker restart: {n} Acme claims per wave at concurrency {n}, portal latency {args.latency_ms} ms",
        ["wave", "sign-ins", "page loads per claim", "wave s"],
        rows,
        ["each wave runs on a new worker process (no warm context survives a restart)"],
    )


if __name__ == "__main__":
    main()
