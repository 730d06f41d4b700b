"""Egress: what the destination policy at navigation costs a claim, the egress gate against
Playwright request routing (the other way to hold every request to the policy) and against nothing.

    .venv/bin/python bench/egress.py [--claims 10] [--latency-ms 0]

In one process, three kept browsers (one Chromium each) run the same kind of claim in turn
(none, gate, routing, none, gate, ...), so a change in the machine's load hits all alike:
- none: no check at navigation (what runs before the gate; the configuration checks stay);
- gate: the worker's egress gate (a proxy on 127.0.0.1; decisions cached per host);
- routing: `context.route("**/*")` with the same cached decision per host, continuing or aborting
  each request from Python (Playwright turns the HTTP cache off while a route is set, and does
  not route redirect hops, so it is the weaker check).
A claim's time is its attempt (the trajectory: browser context, saved session, form, submit,
capture). The first claim on each side is a warm-up and not counted. Then, per side, a fresh
context times 100 uncached fetches of a static file and 20 loads of the login page (page, CSS,
scripts): the per-request cost, which the claims' noise hides.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from claims import claims
from harness import running_portal, set_up_account, settings_for, show
from playwright.async_api import BrowserContext, Route

from runner.core.db import session_scope
from runner.core.egress import EgressGate
from runner.core.pool import BrowserPool
from runner.core.runtime import build_executor
from runner.core.system import System, build
from runner.core.tables import Task, Trajectory
from runner.core.worker import Worker


class Kept(BrowserPool):
    """One Chromium for every claim of a side (a worker stops its browser when the queue drains)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.up = False

    async def start(self) -> None:
        if not self.up:
            await super().start()
            self.up = True

    async def stop(self) -> None:
        return None

    async def close(self) -> None:
        await super().stop()


class Routed(Kept):
    """Every request through a Python route handler that applies the policy (cached per host)."""

    def __init__(self, gate: EgressGate) -> None:
        super().__init__()
        self.gate = gate  # its `decide` (cache + policy); its proxy is not used
        self.requests = 0

    async def new_context(self, *, storage_state: dict[str, Any] | None = None) -> BrowserContext:
        context = await super().new_context(storage_state=storage_state)
        await context.route("**/*", self._check)
        return context

    async def _check(self, route: Route) -> None:
        self.requests += 1
        url = route.request.url
        host = url.split("/")[2].rsplit(":", 1)[0] if "://" in url else ""
        try:
            await self.gate.decide(host, 80)
        except Exception:
            await route.abort("blockedbyclient")
            return
        await route.continue_()


async def run_claims(core: System, account_id: str, sides: dict[str, Kept], n: int) -> dict[str, list[float]]:
    account = core.accounts.find(account_id)
    times: dict[str, list[float]] = {name: [] for name in sides}
    batch = iter(claims((n + 1) * len(sides)))
    for round_ in range(n + 1):
        for name, pool in sides.items():
            task = core.tasks.create(
                account, type="submit_claim", data=next(batch).task_data(), actor="bench"
            )
            worker = Worker(core.queue, build_executor(core), pool, concurrency=1, poll_interval=0.02)
            await worker.run(once=True)
            with session_scope(core.engine, readonly=True) as session:
                done = session.get(Task, task.id)
                assert done is not None
                if done.status != "completed":
                    raise RuntimeError(f"{name}: the claim ended {done.status}: {done.notes}")
                trajectory = session.get(Trajectory, done.trajectory_id)
                assert trajectory is not None and trajectory.ended_at is not None
            if round_ > 0:
                times[name].append((trajectory.ended_at - trajectory.started_at).total_seconds())
    return times


async def per_request(pool: Kept, base: str) -> tuple[float, float]:
    """Median ms of an uncached fetch of a static file, and of a load of the login page."""
    context = await pool.new_context()
    try:
        page = await context.new_page()
        await page.goto(f"{base}/acme/login")
        fetches = await page.evaluate(
            """async (base) => {
                const out = [];
                for (let i = 0; i < 100; i++) {
                    const t0 = performance.now();
                    await (await fetch(`${base}/static/acme.css?i=${i}`, {cache: "no-store"})).text();
                    out.push(performance.now() - t0);
                }
                return out;
            }""",
            base,
        )
        loads = []
        for _ in range(20):
            started = time.perf_counter()
            await page.goto(f"{base}/acme/login")
            loads.append((time.perf_counter() - started) * 1000)
        return statistics.median(fetches), statistics.median(loads)
    finally:
        await context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=10, help="claims per side (after one warm-up)")
    parser.add_argument("--latency-ms", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sopwright-bench-") as tmp:
        work = Path(tmp)
        with running_portal(work, args.latency_ms) as portal:
            account = set_up_account(work, portal, "http://127.0.0.1:9/hooks", max_sessions=3)
            settings = settings_for(work).model_copy(update={"trace": "off", "poll_scale": 0.02})
            core = build(settings)
            gate = EgressGate(core.destinations)
            routed = Routed(EgressGate(core.destinations))
            sides: dict[str, Kept] = {"none": Kept(), "gate": Kept(egress=gate), "routing": routed}

            routed_per_claim: list[float] = []

            async def go() -> tuple[dict[str, list[float]], dict[str, tuple[float, float]]]:
                try:
                    times = await run_claims(core, account.id, sides, args.claims)
                    routed_per_claim.append(routed.requests / (args.claims + 1))
                    requests = {name: await per_request(pool, portal.url) for name, pool in sides.items()}
                    return times, requests
                finally:
                    for pool in sides.values():
                        await pool.close()

            started = time.monotonic()
            try:
                times, requests = asyncio.run(go())
            finally:
                core.close()
    base = statistics.median(times["none"])
    rows = [
        (
            name,
            len(values),
            f"{statistics.median(values):.3f}",
            f"{statistics.mean(values):.3f}",
            f"{min(values):.3f}",
            f"{max(values):.3f}",
            f"{statistics.median(values) - base:+.3f}",
            f"{requests[name][0]:.2f}",
            f"{requests[name][1]:.0f}",
        )
        for name, values in times.items()
    ]
    per_claim = routed_per_claim[0]
    show(
        f"Egress: {args.claims} claims per side, portal latency {args.latency_ms} ms",
        [
            "side",
            "claims",
            "median s",
            "mean s",
            "min s",
            "max s",
            "median vs none",
            "uncached fetch ms",
            "login page ms",
        ],
        rows,
        [
            f"{per_claim:.0f} routed requests per claim (redirect hops not counted); "
            f"gate decisions made: {gate.lookups}; run took {time.monotonic() - started:.0f} s"
        ],
    )


if __name__ == "__main__":
    main()
