"""A worker process for the crash test: the real handlers, except that once the submit step has
clicked "Submit" it prints SUBMITTED and hangs, so the test can SIGKILL it between the submit
and the capture. Settings come from the environment (SOPWRIGHT_*), like `sopwright worker`.

    python tests/e2e/handlers/crash_worker.py PAYER SUBMIT_STEP
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import replace

from handlers.context import StepContext
from handlers.portals import portal_handlers
from runner.core.runtime import build_worker
from runner.core.settings import Settings
from runner.core.system import build


def main(payer: str, submit_step: str) -> None:
    handlers = portal_handlers()
    submit = handlers[payer].scripts[submit_step]

    async def submit_then_hang(ctx: StepContext) -> None:
        await submit(ctx)
        print("SUBMITTED", flush=True)
        await asyncio.Event().wait()  # killed here, before the capture step

    handlers[payer] = replace(
        handlers[payer], scripts={**handlers[payer].scripts, submit_step: submit_then_hang}
    )
    system = build(Settings())
    worker = build_worker(system, concurrency=1, portals=handlers, poll_interval=0.05)
    asyncio.run(worker.run(once=True))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
