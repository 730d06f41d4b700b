"""Page loads, time and screenshot bytes per task, for every task type on both payers (in-process).

    .venv/bin/python bench/page_loads.py [--tasks 3] [--latency-ms 0] [--env KEY=VALUE]
                                         [--payers acme,beacon] [--types check_eligibility,...]

A worker runs in this process (one browser, concurrency 1) against the mock portal; tasks are
created through the core and run one at a time. For each task the portal counts the page loads
the browser made (`GET /_mock/traffic`: navigations of a page or a frame, each redirect hop
one), the attempt's time is read from its trajectory, and its screenshots' bytes from its artifact
folder. Tasks run grouped by payer and type; the first of each group is shown apart (the first on
a payer signs in; on Beacon the first of a type may switch the provider context), the others
reuse the saved session (the steady state). Then the hand-written Playwright script
(bench/minimal.py) submits the same number of Acme claims on the same portal, counted the same way.
Target: the system loads no more pages than the script for the same work, plus at most one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import tempfile
from pathlib import Path
from typing import Any

from chaos_tasks import PAYERS, TYPES, ChaosTask, chaos_fixtures, chaos_tasks
from claims import claims
from harness import KeptBrowser, Portal, running_portal, settings_for, show
from minimal import playwright_script

from runner.core.db import session_scope
from runner.core.runtime import build_executor
from runner.core.system import System, build
from runner.core.tables import Task, Trajectory
from runner.core.worker import Worker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=3, help="tasks per type and payer")
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument(
        "--env", action="append", default=[], help="a worker setting, e.g. SOPWRIGHT_TRACE=off"
    )
    parser.add_argument("--payers", default=",".join(PAYERS))
    parser.add_argument("--types", default=",".join(TYPES))
    args = parser.parse_args()
    for pair in args.env:
        key, _, value = pair.partition("=")
        os.environ[key] = value
    payers, types = args.payers.split(","), args.types.split(",")
    # chaos_tasks cycles types, then payers: `--tasks` + 1 of each, grouped by payer and type.
    every = chaos_tasks(8 * (args.tasks + 1))
    wanted = [t for p in payers for k in types for t in every if t.payer == p and t.type == k]
    work = Path(tempfile.mkdtemp(prefix="sopwright-bench-loads-"))
    try:
        with running_portal(work, args.latency_ms, chaos_fixtures(work / "fixtures", wanted)) as portal:
            rows, firsts, sequences = asyncio.run(_system(work, portal, wanted))
            portal.reset(latency_ms=args.latency_ms)
            before = portal.page_loads()
            script = asyncio.run(playwright_script(portal.acme, portal.user(), claims(args.tasks + 1)))
            after = portal.page_loads()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    script_loads = (after - before) / (args.tasks + 1) if after is not None and before is not None else None
    table = []
    for (payer, kind), found in rows.items():
        first = firsts.get((payer, kind))
        table.append(
            (
                payer,
                kind,
                len(found),
                _fmt(statistics.mean(f["loads"] for f in found) if found[0]["loads"] is not None else None),
                _fmt(first["loads"] if first else None),
                f"{statistics.median(f['seconds'] for f in found):.2f}",
                f"{statistics.mean(f['shots'] for f in found) / 1000:.0f}",
                ", ".join(sorted({f["status"] for f in found})),
            )
        )
    script_note = (
        f"hand-written Playwright script (bench/minimal.py), Acme claims: {_fmt(script_loads)} page loads "
        f"per claim (its login spread over {args.tasks + 1} claims; {script.login:.2f} s login, "
        f"{statistics.median(script.per_claim):.2f} s median per claim)"
    )
    show(
        f"Page loads per task (saved session), {args.tasks} per row, latency {args.latency_ms} ms",
        [
            "payer",
            "task type",
            "tasks",
            "page loads",
            "first of the group",
            "median attempt s",
            "screenshots KB",
            "status",
        ],
        table,
        [script_note, *(f"{label}: {seq}" for label, seq in sequences.items())],
    )


Row = dict[str, Any]


async def _system(
    work: Path, portal: Portal, wanted: list[ChaosTask]
) -> tuple[dict[tuple[str, str], list[Row]], dict[tuple[str, str], Row], dict[str, str]]:
    system = build(settings_for(work).model_copy(update={"poll_scale": 0.001}))
    browser = KeptBrowser()
    rows: dict[tuple[str, str], list[Row]] = {}
    firsts: dict[tuple[str, str], Row] = {}
    sequences: dict[str, str] = {}
    try:
        account = system.accounts.create("Bench Clinic").account
        system.accounts.set_defaults(account.id, {"tax_id": "123456789"})
        users = portal.admin.get("/_mock/users").json()
        for payer in {t.payer for t in wanted}:
            user = users[payer][0]
            system.credentials.add(
                account.id,
                payer=payer,
                url=f"{portal.url}/{payer}",
                username=user["username"],
                password=user["password"],
                totp_secret=user["totp_secret"],
            )
        executor = build_executor(system)
        for task in wanted:
            key = (task.payer, task.type)
            created = system.tasks.create(account, type=task.type, data=task.data, actor="bench")
            before = portal.page_loads()
            worker = Worker(system.queue, executor, browser, concurrency=1, poll_interval=0.05)
            await worker.run(once=True)
            after = portal.page_loads()
            found = _measure(system, work, created.id)
            found["loads"] = after - before if after is not None and before is not None else None
            if key not in firsts:
                firsts[key] = found
                continue
            rows.setdefault(key, []).append(found)
            label = f"{task.payer} {task.type}"
            if label not in sequences and after is not None and before is not None and after > before:
                paths = [f"{r['method']} {r['path']}" for r in portal.recent_loads()[-(after - before) :]]
                sequences[label] = " -> ".join(paths)
    finally:
        await browser.close()
        system.close()
    return rows, firsts, sequences


def _measure(system: System, work: Path, task_id: str) -> Row:
    with session_scope(system.engine, readonly=True) as session:
        task = session.get(Task, task_id)
        assert task is not None
        trajectory = session.get(Trajectory, task.trajectory_id) if task.trajectory_id else None
        seconds = (
            (trajectory.ended_at - trajectory.started_at).total_seconds()
            if trajectory and trajectory.ended_at
            else float("nan")
        )
    folder = work / "artifacts" / task.account_id / task.id
    shots = sum(p.stat().st_size for p in folder.rglob("*") if p.suffix in (".png", ".jpg"))
    return {"status": task.status, "seconds": seconds, "shots": shots}


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


if __name__ == "__main__":
    main()
