"""What printing a submission's confirmation page to a PDF costs (issue 13 §3), by payer and type.

    .venv/bin/python bench/page_pdf.py [--tasks 2] [--repeats 5] [--payers acme,beacon] [--latency-ms 0]

A worker runs in this process (one browser, concurrency 1) against the mock portal. Each
submission's capture step is wrapped: once the real step has run (it printed and kept its
confirmation), the same page is printed again `--repeats` times per variant, each print timed
(wall) and metered (CPU seconds of this process, Playwright's driver and every Chromium process,
psutil, read before and after). Variants: what runs (`handlers.documents.print_pdf`: Letter,
margins, no backgrounds), `page.pdf()` with Playwright's defaults, with backgrounds, with a
browser print dialog's date/address header and page-number footer, and for scale a full-page PNG
screenshot (what the recorder takes of an attempt's last step). A whole task's attempt is metered
too (its extra prints taken off), to put one print in proportion.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import psutil
from chaos_tasks import PAYERS, ChaosTask, chaos_fixtures, chaos_tasks
from harness import CpuMeter, KeptBrowser, Portal, running_portal, settings_for, show
from playwright.async_api import Page

from handlers.context import StepContext
from handlers.documents import PDF_MARGIN, print_pdf
from handlers.portals import portal_handlers
from handlers.registry import PortalHandler
from runner.core.runtime import build_executor
from runner.core.system import build
from runner.core.worker import Worker

TYPES = ("submit_claim", "submit_prior_authorization", "submit_appeal")
CAPTURES = ("capture_claim_number", "capture_authorization_reference", "capture_appeal_reference")
Variant = Callable[[Page], Awaitable[bytes]]
Script = Callable[[StepContext], Awaitable[None]]
# What a browser's print dialog adds (the variant sopwright dropped for its cost).
_SMALL = 'style="font-size:8px; width:100%; margin:0 0.4in; display:flex; justify-content:space-between"'
HEADER = f'<div {_SMALL}><span class="date"></span><span class="url"></span></div>'
FOOTER = f'<div {_SMALL}><span></span><span class="pageNumber"></span></div>'
VARIANTS: dict[str, Variant] = {
    "print_pdf (what runs)": print_pdf,
    "page.pdf() defaults": lambda page: page.pdf(),
    "+ date/address header, page footer": lambda page: page.pdf(
        format="Letter",
        margin=PDF_MARGIN,
        display_header_footer=True,
        header_template=HEADER,
        footer_template=FOOTER,
    ),
    "page.pdf() + backgrounds": lambda page: page.pdf(format="Letter", print_background=True),
    "full-page PNG screenshot": lambda page: page.screenshot(full_page=True, type="png"),
}
# (payer, type, variant) -> [(wall s, cpu s, chromium cpu s, bytes)]
Samples = dict[tuple[str, str, str], list[tuple[float, float, float, int]]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=2, help="submissions per type and payer")
    parser.add_argument("--repeats", type=int, default=5, help="prints per variant per submission")
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--payers", default=",".join(PAYERS))
    args = parser.parse_args()
    payers = args.payers.split(",")
    wanted = chaos_tasks(len(TYPES) * len(payers) * args.tasks, types=TYPES, payers=payers)
    work = Path(tempfile.mkdtemp(prefix="sopwright-bench-pdf-"))
    load_before = os.getloadavg()
    try:
        with running_portal(work, args.latency_ms, chaos_fixtures(work / "fixtures", wanted)) as portal:
            samples, attempts = asyncio.run(_run(work, portal, wanted, args.repeats))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = []
    for (payer, kind, variant), found in sorted(samples.items()):
        task_cpu = statistics.median(attempts[(payer, kind)]) if attempts.get((payer, kind)) else float("nan")
        cpu = statistics.median(f[1] for f in found)
        rows.append(
            (
                payer,
                kind,
                variant,
                len(found),
                f"{statistics.median(f[0] for f in found) * 1000:.0f}",
                f"{cpu * 1000:.0f}",
                f"{statistics.median(f[2] for f in found) * 1000:.0f}",
                f"{statistics.median(f[3] for f in found) / 1000:.0f}",
                f"{task_cpu:.2f}",
                f"{cpu / task_cpu * 100:.1f} %",
            )
        )
    show(
        "Printing the confirmation page, per print (medians)",
        [
            "payer",
            "task type",
            "variant",
            "prints",
            "wall ms",
            "CPU ms (all)",
            "CPU ms chromium",
            "KB",
            "task CPU s",
            "of the task's CPU",
        ],
        rows,
        [f"load average before the run: {' '.join(f'{x:.2f}' for x in load_before)}"],
    )


async def _run(
    work: Path, portal: Portal, wanted: list[ChaosTask], repeats: int
) -> tuple[Samples, dict[tuple[str, str], list[float]]]:
    system = build(settings_for(work).model_copy(update={"poll_scale": 0.001}))
    browser = KeptBrowser()
    meter_roots = {"worker": psutil.Process()}
    samples: Samples = {}
    attempts: dict[tuple[str, str], list[float]] = {}
    extra = [0.0]  # CPU seconds of the bench's own prints in the current task

    def measured(payer: str, kind: str, original: Script) -> Script:
        async def capture(ctx: StepContext) -> None:
            await original(ctx)
            for name, variant in VARIANTS.items():
                for _ in range(repeats):
                    with CpuMeter(meter_roots) as meter:
                        started = time.perf_counter()
                        data = await variant(ctx.page)
                        wall = time.perf_counter() - started
                    cpu = sum(meter.spent.values())
                    extra[0] += cpu
                    samples.setdefault((payer, kind, name), []).append(
                        (wall, cpu, meter.spent.get("chromium", 0.0), len(data))
                    )

        return capture

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
        for task in wanted:
            handlers = dict(portal_handlers())
            base: PortalHandler = handlers[task.payer]
            scripts = dict(base.scripts)
            for name in CAPTURES:
                scripts[name] = measured(task.payer, task.type, base.scripts[name])
            handlers[task.payer] = replace(base, scripts=scripts)
            executor = build_executor(system, portals=handlers)
            system.tasks.create(account, type=task.type, data=task.data, actor="bench")
            worker = Worker(system.queue, executor, browser, concurrency=1, poll_interval=0.05)
            extra[0] = 0.0
            with CpuMeter(meter_roots) as whole:
                await worker.run(once=True)
            attempts.setdefault((task.payer, task.type), []).append(sum(whole.spent.values()) - extra[0])
    finally:
        await browser.close()
        system.close()
    return samples, attempts


if __name__ == "__main__":
    main()
