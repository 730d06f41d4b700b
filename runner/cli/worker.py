"""`sopwright worker`, and the worker `serve` and `demo` run in the background."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Annotated

import typer
from prometheus_client import start_http_server

from runner.cli.context import boundary, fail, freeze_start_up_objects, out, system
from runner.core.metrics import process_wide, scrape_registry
from runner.core.runtime import build_worker
from runner.core.system import System
from runner.core.worker import Worker, WorkerStats


def worker(
    once: Annotated[bool, typer.Option("--once", help="Drain what is due, then exit (for cron).")] = False,
    concurrency: Annotated[int | None, typer.Option(help="Tasks run at once (default: setting).")] = None,
    headed: Annotated[bool, typer.Option(help="Show the browser (needs a display).")] = False,
    metrics_host: Annotated[
        str, typer.Option(help="Interface for the metrics port (SOPWRIGHT_METRICS_PORT); 0.0.0.0 for all.")
    ] = "127.0.0.1",
) -> None:
    """Run tasks: until SIGTERM/SIGINT, or with --once until the queue has nothing due."""
    with system() as core:
        runner = build_worker(core, concurrency=concurrency, headless=not headed)
        freeze_start_up_objects()
        out.print(f"worker {runner.owner}: concurrency {concurrency or core.settings.worker_concurrency}")
        with (
            metrics_server(core, runner, metrics_host),
            core.webhooks.dispatcher().in_background(),
            core.schedules.in_background(),
            boundary(),
        ):
            stats = asyncio.run(_run_until_signalled(runner, once=once))
    out.print(
        f"worker stopped: {stats.claimed} claimed, {stats.finished} finished, "
        f"{stats.released} released, {stats.lost} lost"
    )


@contextlib.contextmanager
def metrics_server(core: System, runner: Worker, host: str) -> Iterator[None]:
    """With `metrics_port` set, serve Prometheus figures (the fleet's and this worker's) over HTTP."""
    port = core.settings.metrics_port
    if port is None:
        yield
        return
    with process_wide(runner.metrics):
        try:
            server, thread = start_http_server(port, addr=host, registry=scrape_registry(core.engine))
        except OSError as exc:
            fail(f"Cannot serve metrics on {host}:{port}: {exc.strerror or exc}.")
        out.print(f"metrics on http://{host}:{port}/metrics")
        try:
            yield
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)


async def _run_until_signalled(runner: Worker, *, once: bool) -> WorkerStats:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    return await runner.run(once=once, stop=stop)


@contextlib.contextmanager
def worker_in_background(core: System) -> Iterator[None]:
    """The in-process worker of `sopwright serve`: its own thread and event loop. Its figures join
    the process's default registry, which the API's /metrics serves."""
    stop = threading.Event()
    runner = build_worker(core)

    def main() -> None:
        async def go() -> None:
            event = asyncio.Event()

            async def watch() -> None:
                while not stop.is_set():
                    await asyncio.sleep(0.2)
                event.set()

            watcher = asyncio.create_task(watch())
            await runner.run(stop=event)
            watcher.cancel()

        asyncio.run(go())

    thread = threading.Thread(target=main, name="sopwright-worker", daemon=True)
    with process_wide(runner.metrics):
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=60)
