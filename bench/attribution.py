"""Where a claim's CPU goes: sopwright's worker and the hand-written script in one process, by process.

    .venv/bin/python bench/attribution.py [--rounds 4] [--claims 5] [--latency-ms 0]

One Chromium (a worker's browser pool, warm contexts on) and one mock portal serve every side.
Each round runs `--claims` Acme claims through each side in turn:

- sopwright: a worker in this process at concurrency 1, as `sopwright worker` runs a task (its
  database, trajectory and step screenshots, confirmation PDF, the claim's follow-up task);
- sopwright with `SOPWRIGHT_SCREENSHOTS=final` (the failing and the last step only) and `off`,
  to show what the step screenshots cost;
- the hand-written script of `bench/overhead.py` (`minimal.fill_and_submit`) in a signed-in
  context of its own in the same browser.

Printed per side: the median over rounds of wall seconds per claim, and CPU seconds per claim by
process: this process's Python (the worker or the script), Playwright's driver, and Chromium's
browser, GPU, renderer (zygote and renderers, exited ones included) and utility processes. The
sides alternate within each round so that the machine's load falls on each alike; compare the
sides of one run, not runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import psutil
from claims import Claim, claims
from harness import KeptBrowser, Portal, kind_of, machine, running_portal, settings_for, show
from minimal import fill_and_submit, sign_in
from playwright.async_api import Page

from runner.core.artifacts import ScreenshotMode
from runner.core.runtime import build_executor
from runner.core.system import System, build
from runner.core.tables import Account
from runner.core.worker import Worker

KINDS = ("python", "driver", "browser", "gpu-process", "renderer", "utility")
SIDES = (
    "sopwright (screenshots: steps)",
    "sopwright, SOPWRIGHT_SCREENSHOTS=final",
    "sopwright, SOPWRIGHT_SCREENSHOTS=off",
    "hand-written script",
)


def cpu_by_kind() -> dict[str, float]:
    """CPU seconds so far of this process and its descendants, by KINDS (reaped children included)."""
    found = dict.fromkeys(KINDS, 0.0)
    for proc in [psutil.Process(), *psutil.Process().children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            times = proc.cpu_times()
            kind = kind_of(proc)
            found[kind if kind in found else "renderer"] += (
                times.user + times.system + times.children_user + times.children_system
            )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--claims", type=int, default=5, help="claims per side per round")
    parser.add_argument("--latency-ms", type=int, default=0)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sopwright-bench-attribution-"))
    load_before = os.getloadavg()
    try:
        with running_portal(work, args.latency_ms) as portal:
            walls, spent, counts = asyncio.run(_run(work, portal, args.rounds, args.claims))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = []
    for side in SIDES:
        per = {k: v / counts[side] for k, v in spent[side].items()}
        rows.append(
            (
                side,
                f"{statistics.median(walls[side]):.3f}",
                *(f"{per[k]:.3f}" for k in KINDS),
                f"{sum(per.values()):.3f}",
            )
        )
    show(
        f"Per Acme claim, concurrency 1, portal latency {args.latency_ms} ms: {args.rounds} rounds x "
        f"{args.claims} claims per side",
        ["side", "wall s", "Python", "driver", "browser", "GPU", "renderer", "utility", "CPU s"],
        rows,
        [f"load average before the run: {' '.join(f'{x:.2f}' for x in load_before)}", f"after: {machine()}"],
    )


async def _run(
    work: Path, portal: Portal, rounds: int, per_side: int
) -> tuple[dict[str, list[float]], dict[str, dict[str, float]], dict[str, int]]:
    system = build(settings_for(work))
    browser = KeptBrowser(warm_seconds=600)
    walls: dict[str, list[float]] = {side: [] for side in SIDES}
    spent: dict[str, dict[str, float]] = {side: dict.fromkeys(KINDS, 0.0) for side in SIDES}
    counts = dict.fromkeys(SIDES, 0)
    numbers = iter(range(1_000, 1_000_000, per_side))
    try:
        account = _account(system, portal)
        executors = {mode: build_executor(system) for mode in ScreenshotMode}
        for mode, executor in executors.items():  # the setting SOPWRIGHT_SCREENSHOTS, per side
            executor._settings = dataclasses.replace(executor._settings, screenshots=mode)

        async def through_worker(batch: list[Claim], mode: ScreenshotMode) -> None:
            executor = executors[mode]
            for claim in batch:
                system.tasks.create(account, type="submit_claim", data=claim.task_data(), actor="bench")
            await Worker(system.queue, executor, browser, concurrency=1, poll_interval=0.05).run(once=True)

        # The sign-in and the first context, before the clock.
        await through_worker(claims(per_side, first=next(numbers)), ScreenshotMode.STEPS)
        script_page = await _signed_in_script_page(browser, portal)

        async def by_script(batch: list[Claim]) -> None:
            for claim in batch:
                await script_page.goto(f"{portal.acme}/claims/new")
                await fill_and_submit(script_page, claim)

        sides: dict[str, Callable[[list[Claim]], Awaitable[None]]] = {
            SIDES[0]: lambda batch: through_worker(batch, ScreenshotMode.STEPS),
            SIDES[1]: lambda batch: through_worker(batch, ScreenshotMode.FINAL),
            SIDES[2]: lambda batch: through_worker(batch, ScreenshotMode.OFF),
            SIDES[3]: by_script,
        }
        for _ in range(rounds):
            for side, run in sides.items():
                batch = claims(per_side, first=next(numbers))
                before = cpu_by_kind()
                started = time.perf_counter()
                await run(batch)
                walls[side].append((time.perf_counter() - started) / per_side)
                after = cpu_by_kind()
                for kind in KINDS:
                    spent[side][kind] += after[kind] - before[kind]
                counts[side] += per_side
    finally:
        await browser.close()
        system.close()
    return walls, spent, counts


def _account(system: System, portal: Portal) -> Account:
    account = system.accounts.create("Bench Clinic").account
    account = system.accounts.set_defaults(
        account.id, {"billing_npi": "2000000002", "provider_npi": "2000000002", "tax_id": "123456789"}
    )
    user = portal.user()
    system.credentials.add(
        account.id,
        payer="acme",
        url=f"{portal.url}/acme",
        username=user["username"],
        password=user["password"],
        totp_secret=user["totp_secret"],
        rate_per_minute=100_000,
    )
    return account


async def _signed_in_script_page(browser: KeptBrowser, portal: Portal) -> Page:
    """The script's page in a context of its own of the same Chromium, signed in as the script does."""
    context = await browser.new_context()
    page = await context.new_page()
    await sign_in(page, portal.acme, portal.user())
    return page


if __name__ == "__main__":
    main()
