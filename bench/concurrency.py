"""Concurrency: tasks of every type on both payers at worker concurrency 1, 2, 4 and 8.

    .venv/bin/python bench/concurrency.py [--tasks 40] [--levels 1,2,4,8] [--latency-ms 300]
        [--mix all | TYPE,TYPE...] [--payer both | acme | beacon] [--env KEY=VALUE]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
        [--base-tree DIR] [--rounds N] [--profile] [--cold]

One mock portal (its fixtures plus one patient per task, and a denied claim per appeal task: the
tasks of `bench/chaos_tasks.py`), one `sopwright serve --no-worker`, and per level one `sopwright
worker --concurrency N` (one Chromium, one context per task) on one login per payer allowed N
sessions. The mix cycles through the task types (`--mix`, default all four: check_eligibility,
submit_claim, submit_prior_authorization, submit_appeal) and the payers (`--payer`, default both:
Acme's portal and the Beacon exchange's). Each level starts on a freshly reset portal (the same
tasks are never duplicates) and first, per payer, runs N eligibility checks at once: each of the
login's N session slots signs in and saves its session (`--cold`: one check per payer, as before
2026-12-05, so that the timed window of level N holds the sign-ins of slots 1..N-1, a cold start
that a running worker pays once and a restarted one not at all, its slots' sessions saved); the
first level then runs one task of each type and payer alone, to count the pages each loads. Then
the N tasks are posted at once and timed from the first POST to the last final state.

Figures per level: throughput against concurrency 1; PSS of the worker process and all its
descendants (Playwright's driver, Chromium's browser, GPU, network and renderer processes),
summed, sampled every 0.5 s ("per extra task" is (peak at N - peak at 1) / (N - 1)); the
machine's CPU; CPU seconds per task by process (the worker's Python, Playwright's node driver,
Chromium, the API server, the mock portal: CPU times of each process tree before and after the
timed window, exited children included); and page loads per task (the mock portal's count).
With `--database-url` (a PostgreSQL server) the run makes a database of its own there and drops
it at the end; without it, SQLite. Targets: throughput at 8 >= 5x concurrency 1 (on 2 cores);
<= 80 MB per extra task.

The PSS peak is also split by process kind (per extra task too); `--profile` has the workers log
at debug level (JSON) and reads from their logs how many browser contexts were open, and how
many of them parked warm, at the peak. `--base-tree DIR` runs, at every level, a worker from
another checkout too (e.g. `git archive main | tar -x -C DIR`; it must expect the same database
schema: the API server of this tree migrates the database), the sides alternating (base, this,
this, base, ...) on the same API, portal and database; each side is compared with its own lowest
level. `--rounds N` runs it all N times.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
from chaos_tasks import PAYER_NAME, PAYERS, TYPES, ChaosTask, chaos_fixtures, chaos_tasks
from harness import (
    CPU_GROUPS,
    Answer,
    CpuMeter,
    Stack,
    page_loads,
    pss_by_kind,
    pss_mb,
    run_seconds,
    show,
    stack,
    when,
)

WARM_UP, PROBE, MEASURED = 0, 50, 100  # task numbers (patients) of the three groups


class Sampler:
    """Peak PSS of a process tree (and its split by process kind at that moment) and the
    machine's CPU use, sampled in a thread."""

    def __init__(self, root: psutil.Process, every: float = 0.5) -> None:
        self.root, self.every = root, every
        self.peak = 0.0
        self.peak_at = 0.0
        self.kinds: dict[str, tuple[int, float]] = {}
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
            kinds = pss_by_kind(self.root)
            total = sum(mb for _, mb in kinds.values())
            if total > self.peak:
                self.peak, self.peak_at, self.kinds = total, time.time(), kinds
            self.cpu.append(psutil.cpu_percent())


@dataclass
class Contexts:
    """Browser contexts of the worker (from its debug log): open (in use or parked) and parked
    warm, at the moment of the PSS peak and at most during the timed window."""

    open_at_peak: int = 0
    parked_at_peak: int = 0
    open_max: int = 0
    parked_max: int = 0
    reused: int = 0
    opened: int = 0


def contexts_from_log(log: Path, start: float, end: float, peak_at: float) -> Contexts:
    """Read the worker's JSON debug log (`--profile`): the pool's "browser context opened/closed"
    (`open`: the browser's contexts, parked included) and the warm contexts' `parked` counts."""
    found = Contexts()
    open_, parked = 0, 0
    for line in log.read_text(errors="replace").splitlines():
        if not line.startswith("{"):
            continue
        entry = json.loads(line)
        at = when(entry["time"].replace("+00:00", "Z"))
        if at > end:
            break
        message = entry.get("message", "")
        if "open" in entry and message.startswith("browser context"):
            open_ = int(entry["open"])
            if message == "browser context opened" and at >= start:
                found.opened += 1
        if "parked" in entry:
            parked = int(entry["parked"])
            if message == "warm browser context reused" and at >= start:
                found.reused += 1
        if at <= peak_at:
            found.open_at_peak, found.parked_at_peak = open_, parked
        if at >= start:
            found.open_max, found.parked_max = max(found.open_max, open_), max(found.parked_max, parked)
    return found


@dataclass
class Level:
    concurrency: int
    elapsed: float
    idle: float
    peak: float
    cpu: float
    cpu_by: dict[str, float]
    loads: int
    statuses: Counter[str]
    runs: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    kinds: dict[str, tuple[int, float]] = field(default_factory=dict)  # PSS split at the peak
    contexts: Contexts | None = None
    side: str = ""
    round: int = 1
    load: str = ""  # 1-minute load average before / after the timed window

    @property
    def label(self) -> str:
        parts = (str(self.concurrency), self.side, f"#{self.round}" if self.round > 1 else "")
        return " ".join(x for x in parts if x)


@dataclass
class Probe:
    """One task of a type and payer, alone: its pages and its worker run."""

    loads: int
    run: float
    status: str


def answer_payer(tasks: dict[int, ChaosTask]) -> Answer:
    """The operator: the one question a good task may get is the Beacon payer typeahead's (it can
    read the list before a slow answer came); name the payer again. Anything else stays unanswered."""

    def answer(api: httpx.Client, task_id: int, problems: list[dict[str, str]]) -> bool:
        if [p.get("field") for p in problems] != ["payer"] or task_id not in tasks:
            return False
        data = f"payer: {PAYER_NAME[tasks[task_id].payer]}"
        api.post(f"/tasks/{task_id}/input", json={"data": data}).raise_for_status()
        return True

    return answer


def post(api: httpx.Client, batch: Sequence[ChaosTask]) -> dict[int, ChaosTask]:
    ids = {}
    for task in batch:
        response = api.post("/tasks", json={"type": task.type, "data": task.data})
        response.raise_for_status()
        body = response.json()
        if body["status"] in ("waiting_for_input", "failed"):  # else pending, or already claimed
            raise RuntimeError(f"a sample {task.type} was refused ({body['status']}): {body['notes']}")
        ids[body["id"]] = task
    return ids


def run_and_wait(
    s: Stack, api: httpx.Client, batch: Sequence[ChaosTask], timeout: float
) -> dict[int, dict[str, Any]]:
    ids = post(api, batch)
    return s.wait_final(api, list(ids), timeout, answer_payer(ids))


def probe(
    s: Stack, api: httpx.Client, batch: Sequence[ChaosTask], timeout: float
) -> dict[tuple[str, str], Probe]:
    found = {}
    for task in batch:
        before = page_loads(s.portal)
        (done,) = run_and_wait(s, api, [task], timeout).values()
        loads = page_loads(s.portal) - before
        found[(task.type, task.payer)] = Probe(loads, run_seconds(done), done["status"])
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tasks", type=int, default=40)
    parser.add_argument("--levels", default="1,2,4,8")
    parser.add_argument("--latency-ms", type=int, default=300)
    parser.add_argument("--mix", default="all", help="task types, comma-separated, or all")
    parser.add_argument("--payer", default="both", choices=["both", *PAYERS])
    parser.add_argument("--timeout", type=float, default=1200, help="seconds per level")
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for the workers (repeat)")
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server (default: SQLite)")
    parser.add_argument(
        "--base-tree",
        type=Path,
        default=None,
        help="another checkout (e.g. `git archive main`): its worker runs beside this tree's, the two "
        "sides alternating level by level",
    )
    parser.add_argument("--rounds", type=int, default=1, help="times every level (and side) runs")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="warm up with one task per payer (session slot 0 only): level N's timed window signs in "
        "its other slots",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="workers log at debug level (JSON): count their browser contexts, open and parked",
    )
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    types = TYPES if args.mix == "all" else tuple(t.strip() for t in args.mix.split(","))
    unknown = [t for t in types if t not in TYPES]
    if unknown:
        parser.error(f"unknown task type in --mix: {', '.join(unknown)}; choose from {', '.join(TYPES)}")
    payers = PAYERS if args.payer == "both" else (args.payer,)
    sides: list[tuple[str, Path | None]] = [("", None)]
    if args.base_tree is not None:
        sides = [("base", args.base_tree.resolve()), ("this", None)]
    env = dict(item.split("=", 1) for item in args.env)
    if args.profile:
        env |= {"SOPWRIGHT_LOG_LEVEL": "DEBUG", "SOPWRIGHT_LOG_FORMAT": "json"}
    if len(payers) * max(levels) > PROBE - WARM_UP:
        parser.error(
            f"at most {(PROBE - WARM_UP) // len(payers)} sessions per login (the warm-up's patients)"
        )
    warm_up = chaos_tasks(
        len(payers) * max(levels), types=("check_eligibility",), payers=payers, first=WARM_UP
    )
    probes = chaos_tasks(len(types) * len(payers), types=types, payers=payers, first=PROBE)
    measured = chaos_tasks(args.tasks, types=types, payers=payers, first=MEASURED)

    def fixtures(work: Path) -> Path:
        return chaos_fixtures(work / "fixtures", [*warm_up, *probes, *measured])

    results: list[Level] = []
    pages: dict[tuple[str, str], Probe] = {}
    with (
        stack(
            latency_ms=args.latency_ms,
            worker=False,
            max_sessions=max(levels),
            payers=payers,
            fixtures=fixtures,
            database_url=args.database_url,
        ) as s,
        s.api() as api,
    ):
        order = [(r, level, side) for r in range(1, args.rounds + 1) for level in levels for side in sides]
        for number, (round_, level, (label, tree)) in enumerate(order):
            if number % (2 * len(sides)) >= len(sides):  # sides alternate: a, b, b, a, a, b, ...
                label, tree = sides[len(sides) - 1 - sides.index((label, tree))]
            s.portal.reset(latency_ms=args.latency_ms)
            with s.worker(level, tree, **env) as root:
                if args.cold:
                    run_and_wait(
                        s, api, [next(t for t in warm_up if t.payer == p) for p in payers], args.timeout
                    )
                else:  # every session slot of each login signs in, N at once
                    for payer in payers:
                        run_and_wait(s, api, [t for t in warm_up if t.payer == payer][:level], args.timeout)
                if not pages:
                    pages = probe(s, api, probes, args.timeout)
                idle = pss_mb(root)
                roots = {
                    "worker": root,
                    "api": psutil.Process(s.serve_pid),
                    "portal": psutil.Process(s.portal.pid),
                }
                loads = page_loads(s.portal)
                load = os.getloadavg()
                with Sampler(root) as sampler, CpuMeter(roots) as cpu:
                    start = time.time()
                    ids = post(api, measured)
                    tasks = s.wait_final(api, list(ids), args.timeout, answer_payer(ids), reject_reviews=True)
                loads = page_loads(s.portal) - loads
                end = max(when(t["completedAt"] or t["failedAt"]) for t in tasks.values())
                elapsed = end - start
                contexts = None
                if args.profile:
                    log = max(s.work.glob(f"worker-{level}-*.log"), key=lambda p: p.stat().st_mtime)
                    contexts = contexts_from_log(log, start, end, sampler.peak_at)
                runs: dict[tuple[str, str], list[float]] = {}
                for task_id, task in tasks.items():
                    runs.setdefault((ids[task_id].type, ids[task_id].payer), []).append(run_seconds(task))
                results.append(
                    Level(
                        level,
                        elapsed,
                        idle,
                        max(sampler.peak, idle),
                        sum(sampler.cpu) / max(1, len(sampler.cpu)),
                        cpu.spent,
                        loads,
                        Counter(t["status"] for t in tasks.values()),
                        runs,
                        sampler.kinds,
                        contexts,
                        label,
                        round_,
                        f"{load[0]:.1f} / {os.getloadavg()[0]:.1f}",
                    )
                )
            rejected = f"; {len(s.reviews)} review(s) rejected so far" if s.reviews else ""
            print(f"{label} round {round_} concurrency {level}: {elapsed:.1f} s{rejected}", flush=True)
    report(args, results, pages)


def base_of(results: list[Level], r: Level) -> Level:
    """The lowest level of `r`'s side and round: what throughput and memory are compared with."""
    return min((x for x in results if (x.side, x.round) == (r.side, r.round)), key=lambda x: x.concurrency)


def per_extra_task(results: list[Level], r: Level) -> float | None:
    base = base_of(results, r)
    return (r.peak - base.peak) / (r.concurrency - base.concurrency) if r is not base else None


def report(args: argparse.Namespace, results: list[Level], pages: dict[tuple[str, str], Probe]) -> None:
    n = args.tasks
    rows = []
    for r in results:
        base = base_of(results, r)
        extra = per_extra_task(results, r)
        per_extra = "-" if extra is None else f"{extra:.0f}"
        rows.append(
            (
                r.label,
                f"{r.elapsed:.1f}",
                f"{n / r.elapsed * 60:.1f}",
                f"{base.elapsed / r.elapsed:.2f}x",
                f"{r.idle:.0f}",
                f"{r.peak:.0f}",
                per_extra,
                f"{r.cpu:.0f}%",
                f"{r.loads / n:.1f}",
                ", ".join(f"{k} {v}" for k, v in sorted(r.statuses.items())),
                r.load,
            )
        )
    mix = "all types" if args.mix == "all" else args.mix
    show(
        f"Concurrency: {n} tasks per level ({mix}, payer {args.payer}), portal latency "
        f"{args.latency_ms} ms, {'PostgreSQL' if args.database_url else 'SQLite'} " + " ".join(args.env),
        [
            "concurrency",
            "time s",
            "tasks/min",
            "vs 1",
            "idle PSS MB",
            "peak PSS MB",
            "MB per extra task",
            "CPU",
            "pages/task",
            "final states",
            "load before / after",
        ],
        rows,
        [
            "targets: >= 5x at concurrency 8; <= 80 MB PSS per extra concurrent task",
            "PSS: worker process + every descendant (driver, Chromium processes); CPU: whole machine",
            *([f"sides: base = the worker of {args.base_tree}; this = this tree's"] * bool(args.base_tree)),
        ],
    )
    if len({(r.side, r.round) for r in results}) > 1:
        report_sides(results, n)
    cpu_rows = []
    for r in results:
        total = sum(r.cpu_by.values())
        cpu_rows.append(
            (
                r.label,
                *(f"{r.cpu_by.get(g, 0.0) / n:.2f}" for g in CPU_GROUPS),
                f"{total / n:.2f}",
                f"{total / r.elapsed / psutil.cpu_count():.0%}",
            )
        )
    show(
        "CPU seconds per task, by process (the timed window)",
        [
            "concurrency",
            "worker (Python)",
            "Playwright driver",
            "Chromium",
            "API server",
            "mock portal",
            "all",
            "of the machine",
        ],
        cpu_rows,
    )
    report_memory(results)
    probe_rows = []
    for (kind, payer), p in sorted(pages.items()):
        runs = [x for r in results for x in r.runs.get((kind, payer), [])]
        median = f"{statistics.median(runs):.2f}" if runs else "-"
        probe_rows.append((kind, payer, p.loads, f"{p.run:.2f}", p.status, median))
    show(
        "Per task type, one task alone (first level, after the warm-up): pages loaded and worker run",
        ["type", "payer", "page loads", "run s (alone)", "final state", "run s (median, every level)"],
        probe_rows,
        ["page loads: documents and frames the portal served (a redirect counts twice)"],
    )


KINDS = (
    ("python", ("python",)),
    ("driver", ("driver",)),
    ("browser", ("browser",)),
    ("renderers", ("renderer",)),
    ("GPU", ("gpu-process",)),
    ("utility, zygote", ("utility", "zygote")),
)


def report_sides(results: list[Level], n: int) -> None:
    """Per side and level, over the rounds: tasks/min, the ratio to the lowest level, MB per
    extra task (each round against its own lowest level)."""
    rows = []
    for side in dict.fromkeys(r.side for r in results):
        for level in sorted({r.concurrency for r in results}):
            got = [r for r in results if (r.side, r.concurrency) == (side, level)]
            ratios = [base_of(results, r).elapsed / r.elapsed for r in got]
            extras = [x for r in got if (x := per_extra_task(results, r)) is not None]
            rows.append(
                (
                    side or "-",
                    level,
                    len(got),
                    " ".join(f"{n / r.elapsed * 60:.1f}" for r in got),
                    " ".join(f"{x:.2f}x" for x in ratios),
                    " ".join(f"{x:.0f}" for x in extras) or "-",
                    f"{statistics.mean(extras):.0f}" if extras else "-",
                )
            )
    show(
        "Sides and rounds",
        ["side", "concurrency", "runs", "tasks/min", "vs lowest level", "MB per extra task", "mean MB"],
        rows,
    )


def report_memory(results: list[Level]) -> None:
    """The PSS peak split by process kind (processes/MB), per level, and per extra task."""

    def cell(r: Level, names: tuple[str, ...]) -> tuple[int, float]:
        found = [r.kinds.get(k, (0, 0.0)) for k in names]
        return sum(n for n, _ in found), sum(mb for _, mb in found)

    known = {k for _, names in KINDS for k in names}
    rows = []
    for r in results:
        other = sum(mb for k, (_, mb) in r.kinds.items() if k not in known)
        cells = [f"{n}/{mb:.0f}" for n, mb in (cell(r, names) for _, names in KINDS)]
        c = r.contexts
        rows.append(
            (
                r.label,
                *cells,
                f"{other:.0f}",
                f"{r.peak:.0f}",
                f"{c.open_at_peak}/{c.parked_at_peak}" if c else "-",
                f"{c.open_max}/{c.parked_max}" if c else "-",
                f"{c.opened}/{c.reused}" if c else "-",
            )
        )
        base = base_of(results, r)
        if r is not base:
            steps = r.concurrency - base.concurrency
            per = [(cell(r, names)[1] - cell(base, names)[1]) / steps for _, names in KINDS]
            rows.append(("per extra task", *(f"{mb:.1f}" for mb in per), *[""] * 5))
    show(
        "PSS at the peak by process kind (processes / MB); browser contexts (with --profile)",
        [
            "concurrency",
            *(name for name, _ in KINDS),
            "other MB",
            "peak MB",
            "contexts at peak: open/parked",
            "max open/parked",
            "opened/warm reused",
        ],
        rows,
        [
            "open contexts include the parked warm ones; opened/reused: new contexts and warm hand-overs "
            "in the timed window",
        ],
    )


if __name__ == "__main__":
    main()
