"""Parked warm contexts: what one costs in memory with its page kept (about:blank) or closed, and
what the next task pays to start in it.

    .venv/bin/python bench/parked_contexts.py [--contexts 8] [--rounds 3] [--latency-ms 0]

One mock portal, one Chromium per round and mode (`handlers.browser.launch_options`, the headless
shell where it is installed), the modes alternating and their order swapped every round. Per
mode: N contexts restored from a signed-in session each submit one Acme claim (a finished task),
then are parked as `runner.core.pool` parks them: the portal's page storage cleared, then either
the first page kept and sent to about:blank ("page kept", the pool before) or every page closed
("page closed"). Memory: PSS of Playwright's driver and every Chromium process at launch, after
the N claims, and with the N contexts parked (by process kind). Then the next task in each
context: its page (the kept one, or a new one) loads the claim form; timed per context, with the
CPU seconds of Playwright's driver and Chromium for the N hand-overs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from claims import claims
from harness import (
    CpuMeter,
    Portal,
    driver_process,
    machine,
    pss_by_kind,
    running_portal,
    show,
    signed_in_state,
)
from minimal import fill_and_submit
from playwright.async_api import BrowserContext, Playwright, async_playwright

from handlers.browser import launch_options

MODES = ("page kept", "page closed", "page kept, purged")
FORM_HEADING = "Submit a professional claim"


@dataclass
class Result:
    mode: str
    round: int
    idle: float = 0.0
    busy: float = 0.0
    parked: float = 0.0
    kinds: dict[str, tuple[int, float]] = field(default_factory=dict)
    handover_s: list[float] = field(default_factory=list)
    handover_cpu: float = 0.0
    load: str = ""


def total(kinds: dict[str, tuple[int, float]]) -> float:
    return sum(mb for _, mb in kinds.values())


async def park(context: BrowserContext, *, keep_page: bool, purge: bool = False) -> None:
    """What the pool does when a task ends well (runner.core.pool.BrowserPool.park); `purge`:
    then a critical memory-pressure signal to the kept page's renderer (DevTools)."""
    pages = list(context.pages)
    if pages:
        await pages[0].evaluate("() => { localStorage.clear(); sessionStorage.clear(); }")
    for page in pages[1:] if keep_page else pages:
        await page.close()
    if keep_page and pages:
        await pages[0].goto("about:blank")
        if purge:
            cdp = await context.new_cdp_session(pages[0])
            await cdp.send("Memory.simulatePressureNotification", {"level": "critical"})
            await cdp.detach()


async def measure(
    pw: Playwright,
    mode: str,
    round_: int,
    portal: Portal,
    state: dict[str, Any],
    n: int,
    first: int,
    settle: float,
) -> Result:
    result = Result(mode, round_)
    browser = await pw.chromium.launch(**launch_options())  # type: ignore[arg-type]
    try:
        root = driver_process()
        await asyncio.sleep(settle)
        result.idle = total(pss_by_kind(root))
        contexts = []
        for claim in claims(n, first=first):
            context = await browser.new_context(
                storage_state=state,  # type: ignore[arg-type]
                viewport={"width": 1280, "height": 900},
            )
            page = await context.new_page()
            await page.goto(f"{portal.acme}/claims/new")
            if not (await fill_and_submit(page, claim)).strip():
                raise RuntimeError("a claim got no claim number")
            contexts.append(context)
        await asyncio.sleep(settle)
        result.busy = total(pss_by_kind(root))
        for context in contexts:
            await park(context, keep_page=mode != "page closed", purge=mode.endswith("purged"))
        await asyncio.sleep(settle)
        result.kinds = pss_by_kind(root)
        result.parked = total(result.kinds)
        with CpuMeter({"worker": psutil.Process(os.getpid())}) as cpu:
            for context in contexts:
                start = time.perf_counter()
                page = context.pages[0] if context.pages else await context.new_page()
                await page.goto(f"{portal.acme}/claims/new")
                await page.get_by_role("heading", name=FORM_HEADING).wait_for()
                result.handover_s.append(time.perf_counter() - start)
        result.handover_cpu = cpu.spent.get("driver", 0.0) + cpu.spent.get("chromium", 0.0)
    finally:
        await browser.close()
    return result


async def run(args: argparse.Namespace, portal: Portal) -> list[Result]:
    results = []
    claim_no = 0
    async with async_playwright() as pw:
        for round_ in range(1, args.rounds + 1):
            for mode in (MODES if round_ % 2 else MODES[::-1]) if not args.modes else args.modes.split(","):
                portal.reset(latency_ms=args.latency_ms)
                state = signed_in_state(portal)  # a reset ends the portal's sessions
                load = machine().split("load average ")[-1]
                result = await measure(pw, mode, round_, portal, state, args.contexts, claim_no, args.settle)
                result.load = load
                claim_no += args.contexts
                results.append(result)
                print(f"round {round_} {mode}: {result.parked:.0f} MB parked, load {load}", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--contexts", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--settle", type=float, default=1.0, help="seconds before each PSS reading")
    parser.add_argument("--modes", default="", help=f"comma-separated, of: {', '.join(MODES)}")
    args = parser.parse_args()
    n = args.contexts
    work = Path(tempfile.mkdtemp(prefix="sopwright-bench-"))
    try:
        with running_portal(work, args.latency_ms) as portal:
            results = asyncio.run(run(args, portal))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = []
    for r in results:
        renderers = r.kinds.get("renderer", (0, 0.0))
        gpu = r.kinds.get("gpu-process", (0, 0.0))[1]
        rows.append(
            (
                r.mode,
                r.round,
                f"{r.idle:.0f}",
                f"{r.busy:.0f}",
                f"{r.parked:.0f}",
                f"{(r.parked - r.idle) / n:.1f}",
                f"{renderers[0]}/{renderers[1]:.0f}",
                f"{gpu:.0f}",
                f"{r.kinds.get('browser', (0, 0.0))[1]:.0f}",
                f"{statistics.median(r.handover_s):.3f}",
                f"{max(r.handover_s):.3f}",
                f"{r.handover_cpu / n:.3f}",
                r.load,
            )
        )
    show(
        f"Parked warm contexts: {n} contexts, each after one Acme claim, latency {args.latency_ms} ms",
        [
            "mode",
            "#",
            "idle MB",
            f"after {n} claims",
            f"{n} parked",
            "MB per parked",
            "renderers (n/MB)",
            "GPU MB",
            "browser MB",
            "next task: form s (median)",
            "max s",
            "CPU s per hand-over",
            "load",
        ],
        rows,
        [
            "PSS of Playwright's driver and every Chromium process; MB per parked: (parked - idle) / N",
            "next task: the kept page (or a new one) loads the claim form; CPU: driver + Chromium",
        ],
    )


if __name__ == "__main__":
    main()
