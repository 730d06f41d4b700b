"""Batches: a CSV of eligibility checks through `POST /batches`, run by workers, with one
interactive check posted in the middle of the run.

    .venv/bin/python bench/batches.py [--rows 2000] [--bad 20] [--workers 2] [--concurrency 4]
        [--latency-ms 300] [--rate-per-minute N] [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

One mock portal (a patient per row), one `sopwright serve --no-worker`, `--workers` processes of
`sopwright worker --concurrency N` on one Acme login allowed `workers x concurrency` sessions. The
CSV has `--rows` rows of which `--bad` (spread through the file) have a date of birth that is no
date: those must be refused with their row and field, the others become tasks. Once a third of
the batch is final an interactive check is posted through `POST /tasks`; the figure is how long
it waited from being due (created) to its claim (its `claim` event), against the batch tasks'
claim waits. At the end the results CSV must have one line per row, each task's line agreeing
with the task. `--rate-per-minute` sets the login's rate (default: the harness's, no practical
limit, so the figure is the machinery's; at the default of 30 a login spreads a batch at
27 a minute, i.e. 2,000 rows over about 74 minutes). Nothing is asserted; it prints a table.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import os
import time

import sqlalchemy as sa
from chaos_tasks import LAST_NAME, ChaosTask, chaos_fixtures, chaos_tasks
from harness import Stack, percentile, settings_for, show, stack, when
from sqlmodel import col, select

from runner.core import db
from runner.core.tables import PortalCredential, Task, TaskEvent
from runner.core.tables.base import as_utc

DOB = "1980-04-12"


def csv_body(rows: list[ChaosTask], bad: int) -> tuple[bytes, set[int]]:
    """The CSV and the file rows (header = row 1) planted with an impossible date of birth."""
    every = max(1, len(rows) // max(1, bad))
    planted = {i for i in range(0, len(rows), every)} if bad else set()
    planted = set(sorted(planted)[:bad])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["member_id", "patient", "date_of_birth", "payer", "provider_npi"])
    for i, row in enumerate(rows):
        dob = "1980-02-30" if i in planted else DOB
        writer.writerow([row.member_id, f"Ada {LAST_NAME}", dob, "Acme Health", "2000000002"])
    return out.getvalue().encode(), {i + 2 for i in planted}


def engine_of(s: Stack) -> sa.Engine:
    return db.create_engine(s.database_url or settings_for(s.work).resolved_database_url())


def finished(engine: sa.Engine, batch_id: int) -> tuple[int, int]:
    with db.session_scope(engine, readonly=True) as session:
        rows = session.exec(select(Task.status).where(col(Task.batch_id) == batch_id)).all()
    return sum(1 for status in rows if status in ("completed", "completed_with_issues", "failed")), len(rows)


def claim_waits(engine: sa.Engine, batch_id: int | None, task_id: int | None = None) -> list[float]:
    """Seconds from due (run_after at creation, else created_at) to the first claim, per task."""
    with db.session_scope(engine, readonly=True) as session:
        query = select(Task.id, Task.created_at, sa.func.min(TaskEvent.at)).join(
            TaskEvent, col(TaskEvent.task_id) == col(Task.id)
        )
        query = query.where(col(TaskEvent.kind) == "claim").group_by(col(Task.id), col(Task.created_at))
        if task_id is not None:
            query = query.where(col(Task.public_id) == task_id)  # the id the API shows
        else:
            query = query.where(col(Task.batch_id) == batch_id)
        rows = session.exec(query).all()
    waits = []
    for _id, created, claimed in rows:
        start, end = as_utc(created), as_utc(claimed)
        if start and end:
            waits.append((end - start).total_seconds())
    return waits


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--bad", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--latency-ms", type=int, default=300)
    parser.add_argument("--rate-per-minute", type=int, default=None)
    parser.add_argument("--timeout", type=float, default=4 * 3600)
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server (default: SQLite)")
    args = parser.parse_args()
    rows = chaos_tasks(args.rows + 1, types=("check_eligibility",), payers=("acme",), first=0)
    batch_rows, urgent = rows[:-1], rows[-1]
    content, planted = csv_body(batch_rows, args.bad)

    with (
        stack(
            latency_ms=args.latency_ms,
            worker=False,
            max_sessions=args.workers * args.concurrency,
            payers=("acme",),
            fixtures=lambda work: chaos_fixtures(work / "fixtures", rows),
            database_url=args.database_url,
        ) as s,
        s.api() as api,
        contextlib.ExitStack() as workers,
    ):
        engine = engine_of(s)
        if args.rate_per_minute:
            with db.session_scope(engine) as session:
                session.execute(sa.update(PortalCredential).values(rate_per_minute=args.rate_per_minute))
        for _ in range(args.workers):
            workers.enter_context(s.worker(args.concurrency))
        start = time.time()
        response = api.post(
            "/batches",
            files={"file": ("bench.csv", content, "text/csv")},
            data={"type": "check_eligibility"},
            timeout=600,
        )
        response.raise_for_status()
        created_in = time.time() - start
        batch = response.json()
        print(
            f"batch {batch['id']}: {batch['created']} tasks, {len(batch['refused'])} rows refused "
            f"in {created_in:.1f} s",
            flush=True,
        )
        refused_ok = {r["row"] for r in batch["refused"]} == planted and all(
            r["field"] == "date_of_birth" for r in batch["refused"]
        )
        deadline = time.monotonic() + args.timeout
        urgent_id = None
        while True:
            done, total = finished(engine, batch["id"])
            if urgent_id is None and done >= total // 3:
                posted = api.post("/tasks", json={"type": "check_eligibility", "data": urgent.data})
                posted.raise_for_status()
                urgent_id = posted.json()["id"]
                print(f"interactive task posted with {done} of {total} batch tasks final", flush=True)
            shown = api.get(f"/batches/{batch['id']}").json()
            if shown["finishedAt"] is not None:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{total - done} of {total} batch tasks not final after {args.timeout:.0f} s"
                )
            time.sleep(1.0)
        elapsed = when(shown["finishedAt"]) - start
        if urgent_id is not None:
            s.wait_final(api, [urgent_id], 600)
        urgent_wait = claim_waits(engine, None, urgent_id) if urgent_id else []
        batch_waits = claim_waits(engine, batch["id"])
        results = api.get(f"/batches/{batch['id']}/results.csv", timeout=120)
        lines = list(csv.DictReader(io.StringIO(results.text)))
        with db.session_scope(engine, readonly=True) as session:
            statuses = dict(
                session.exec(
                    select(Task.public_id, Task.status).where(col(Task.batch_id) == batch["id"])
                ).all()
            )
        disagree = sum(
            1 for line in lines if line["task_id"] and statuses.get(int(line["task_id"])) != line["status"]
        )
        events = [r for r in s.receiver.received if b'"batch_finished"' in r.body]
        engine.dispose()

    load = os.getloadavg()
    show(
        f"Batch of {args.rows} eligibility checks ({args.bad} bad rows), {args.workers} workers x "
        f"{args.concurrency}, portal latency {args.latency_ms} ms, "
        f"{'PostgreSQL' if args.database_url else 'SQLite'}",
        ("figure", "value"),
        [
            ("tasks created / rows refused", f"{batch['created']} / {len(batch['refused'])}"),
            ("refused rows are exactly the planted ones", "yes" if refused_ok else "NO"),
            ("POST /batches (check rows, store tasks)", f"{created_in:.1f} s"),
            (
                "first POST to batch_finished",
                f"{elapsed:.0f} s ({batch['created'] / elapsed * 60:.0f} tasks/min)",
            ),
            ("final statuses", ", ".join(f"{k} {v}" for k, v in shown["counts"].items() if v)),
            ("interactive task: due to claimed", f"{urgent_wait[0]:.2f} s" if urgent_wait else "-"),
            (
                "batch tasks: due to claimed p50 / p99",
                f"{percentile(batch_waits, 50):.0f} / {percentile(batch_waits, 99):.0f} s",
            ),
            ("results.csv lines (rows) / disagreeing with tasks", f"{len(lines)} / {disagree}"),
            ("batch_finished webhooks received", str(len(events))),
            ("load average (1, 5, 15 min) at the end", " ".join(f"{x:.2f}" for x in load)),
        ],
    )


if __name__ == "__main__":
    main()
