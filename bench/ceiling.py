"""Ceiling: what concurrency gives a hand-written Playwright script on this machine, beside the system.

    .venv/bin/python bench/ceiling.py [--claims 40] [--levels 1,8] [--latency-ms 300]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

`bench/concurrency.py` asks for 5x the throughput of concurrency 1 at concurrency 8. Whether any
browser automation can reach that on a machine depends on how much of one task's time is CPU: this
benchmark runs the same Acme claims (the only form the hand-written script knows) both ways at each
level, on one mock portal with the same latency:

- the hand-written script of `bench/overhead.py` (`minimal.fill_and_submit`) with N tabs of one
  browser context, signed in once before the clock starts, each tab taking the next claim from one
  queue until none is left;
- sopwright: `sopwright worker --concurrency N` (one login allowed N sessions), first N warm-up
  claims (its contexts sign in and stay warm, as the script's did before its clock), then the
  measured claims posted at once and timed from the first POST to the last final state.

Each side's claims are new to the portal (their charges differ), so none is a duplicate. Printed:
claims per minute, each side's ratio against its own level 1 (the figure the 5x target is about),
the system's throughput against the script's at the same level, the machine's CPU, and CPU seconds
per claim by process. If the script itself is far from 5x at 8, the machine's CPU, not sopwright,
is what bounds the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

import psutil
from claims import Claim, claims
from concurrency import Sampler
from harness import CPU_GROUPS, CpuMeter, Portal, Stack, check_completed, post_claims, show, stack
from minimal import fill_and_submit, sign_in
from playwright.async_api import Page, async_playwright

from handlers.browser import launch_options


@dataclass
class Level:
    side: str
    concurrency: int
    seconds: float
    claims: int
    cpu: dict[str, float]
    machine_cpu: float

    @property
    def per_minute(self) -> float:
        return self.claims / self.seconds * 60


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=40)
    parser.add_argument("--levels", default="1,8")
    parser.add_argument("--latency-ms", type=int, default=300)
    parser.add_argument("--timeout", type=float, default=900, help="seconds per level of the system")
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server (default: SQLite)")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    n = args.claims
    results: list[Level] = []
    with stack(
        latency_ms=args.latency_ms, worker=False, max_sessions=max(levels), database_url=args.database_url
    ) as s:
        portal = psutil.Process(s.portal.pid)
        for index, level in enumerate(levels):
            first = (index + 1) * 10_000  # every side and level gets claims of its own
            results.append(asyncio.run(_script(s.portal, level, claims(n, first=first), portal)))
            results.append(_system(s, level, claims(n, first=first + 5_000), args.timeout))
    base = {r.side: r.per_minute for r in results if r.concurrency == levels[0]}
    script_at = {r.concurrency: r.per_minute for r in results if r.side == "script"}
    rows = [
        (
            r.side,
            r.concurrency,
            f"{r.seconds:.1f}",
            f"{r.per_minute:.1f}",
            f"{r.per_minute / base[r.side]:.2f}x",
            f"{r.per_minute / script_at[r.concurrency]:.2f}",
            f"{r.machine_cpu:.0f}%",
            *(f"{r.cpu.get(g, 0.0) / r.claims:.2f}" if r.cpu.get(g) else "-" for g in CPU_GROUPS),
            f"{sum(r.cpu.values()) / r.claims:.2f}",
        )
        for r in results
    ]
    database = "PostgreSQL" if args.database_url else "SQLite"
    show(
        f"Ceiling: {n} Acme claims per side and level, portal latency {args.latency_ms} ms, {database}",
        [
            "side",
            "concurrency",
            "time s",
            "claims/min",
            f"vs its {levels[0]}",
            "vs script",
            "CPU",
            "Python s",
            "driver s",
            "Chromium s",
            "API s",
            "portal s",
            "all s/claim",
        ],
        rows,
        [
            "script: N tabs of one signed-in context (sign-in before the clock); system: `sopwright worker "
            "--concurrency N` after N warm-up claims",
            "CPU: the whole machine, sampled every 0.5 s; s columns: CPU seconds per claim by process",
        ],
    )


async def _script(portal: Portal, tabs: int, batch: Sequence[Claim], portal_proc: psutil.Process) -> Level:
    user = portal.user()
    queue = list(batch)
    done: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(**launch_options())  # type: ignore[arg-type]
        try:
            context = await browser.new_context()
            page = await context.new_page()
            await sign_in(page, portal.acme, user)
            pages = [page, *[await context.new_page() for _ in range(tabs - 1)]]

            async def lane(tab: Page) -> None:
                while queue:
                    claim = queue.pop(0)
                    await tab.goto(f"{portal.acme}/claims/new")
                    done.append((await fill_and_submit(tab, claim)).strip())

            roots = {"worker": psutil.Process(), "portal": portal_proc}
            with Sampler(psutil.Process()) as sampler, CpuMeter(roots) as meter:
                start = time.perf_counter()
                await asyncio.gather(*(lane(p) for p in pages))
                seconds = time.perf_counter() - start
        finally:
            await browser.close()
    if len(done) != len(batch) or not all(done):
        raise RuntimeError(f"the script submitted {len(done)} of {len(batch)} claims")
    return Level("script", tabs, seconds, len(batch), meter.spent, _mean(sampler.cpu))


def _system(s: Stack, level: int, batch: Sequence[Claim], timeout: float) -> Level:
    with s.worker(level) as root, s.api() as api:
        warm = claims(level, first=90_000 + level * 100)
        check_completed(s.wait_final(api, post_claims(api, warm), timeout))
        roots = {"worker": root, "api": psutil.Process(s.serve_pid), "portal": psutil.Process(s.portal.pid)}
        with Sampler(root) as sampler, CpuMeter(roots) as meter:
            start = time.perf_counter()
            ids = post_claims(api, batch)
            tasks = s.wait_final(api, ids, timeout)
            seconds = time.perf_counter() - start
    check_completed(tasks)
    return Level("sopwright", level, seconds, len(batch), meter.spent, _mean(sampler.cpu))


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


if __name__ == "__main__":
    main()
