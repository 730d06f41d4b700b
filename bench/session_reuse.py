"""Session reuse: 20 claims on one portal login, reusing the saved session vs a fresh login each.

    .venv/bin/python bench/session_reuse.py [--tasks 20] [--latency-ms 300]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

One `sopwright serve --no-worker` and one `sopwright worker --concurrency 1` (default settings but
warm contexts off, which would keep a signed-in context through the "fresh" tasks).
The two modes alternate task by task (reuse, fresh, reuse, ...), so a change in the machine's
load hits both alike: before a "fresh" task the login's saved session is deleted (as if session
reuse did not exist), so its `login` step signs in with password and TOTP. Each task is posted
alone and waited for; its time is the worker's run (startedAt to completedAt), which leaves out
the worker's idle polling. With `--database-url` (a PostgreSQL server) the run uses a database
of its own made there and dropped after; without it, SQLite. Target (issue 12): fresh / reuse >= 2.
"""

from __future__ import annotations

import argparse
import statistics

import httpx
from claims import Claim, claims
from harness import (
    Stack,
    check_completed,
    post_claims,
    run_seconds,
    show,
    stack,
    when,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=20, help="tasks per mode")
    parser.add_argument("--latency-ms", type=int, default=300)
    parser.add_argument("--timeout", type=float, default=120, help="seconds per task")
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server (default: SQLite)")
    args = parser.parse_args()
    runs: dict[str, list[float]] = {"reuse": [], "fresh": []}
    logins: dict[str, list[float]] = {"reuse": [], "fresh": []}
    with (
        stack(latency_ms=args.latency_ms, worker=False, database_url=args.database_url) as s,
        # Warm contexts off: a kept context would stay signed in through the "fresh" tasks too
        # (overhead.py measures warm contexts against none).
        s.worker(1, SOPWRIGHT_WARM_CONTEXT_SECONDS="0"),
        s.api() as api,
    ):
        batch = iter(claims(2 * args.tasks + 1))
        _one(s, api, next(batch), args.timeout)  # warm-up: the worker's first context; a saved session
        for _ in range(args.tasks):
            for mode in ("reuse", "fresh"):
                if mode == "fresh":
                    s.forget_session()
                run, login = _one(s, api, next(batch), args.timeout)
                runs[mode].append(run)
                logins[mode].append(login)
    rows = []
    for mode, label in (("fresh", "fresh login per task"), ("reuse", "saved session reused")):
        rows.append(
            (
                label,
                len(runs[mode]),
                f"{statistics.median(logins[mode]):.2f}",
                f"{statistics.median(runs[mode]):.2f}",
                f"{statistics.mean(runs[mode]):.2f}",
                f"{sum(runs[mode]):.1f}",
            )
        )
    ratio = sum(runs["fresh"]) / sum(runs["reuse"])
    show(
        f"Session reuse: claims on one login, portal latency {args.latency_ms} ms, concurrency 1, "
        + ("PostgreSQL" if args.database_url else "SQLite"),
        ["mode", "tasks", "login step s (median)", "task s (median)", "task s (mean)", "total s"],
        rows,
        [f"fresh / reuse (total): {ratio:.2f}x — target >= 2x (issue 12)"],
    )


def _one(s: Stack, api: httpx.Client, claim: Claim, timeout: float) -> tuple[float, float]:
    """Post one claim, wait for it; (worker run seconds, login step seconds)."""
    (task_id,) = post_claims(api, [claim])
    tasks = s.wait_final(api, [task_id], timeout)
    check_completed(tasks)
    steps = api.get(f"/tasks/{task_id}/trajectory").json()["attempts"][-1]["steps"]
    login = next(st for st in steps if st["step_id"] == "login")
    return run_seconds(tasks[task_id]), when(login["ended_at"]) - when(login["started_at"])


if __name__ == "__main__":
    main()
