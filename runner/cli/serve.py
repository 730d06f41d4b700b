"""`sopwright serve` and `sopwright portal`."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from typing import Annotated

import typer
import uvicorn

from runner.api.app import create_app
from runner.cli.children import stop, stop_on_signals
from runner.cli.context import freeze_start_up_objects, out, system
from runner.cli.worker import worker_in_background
from sops.inputs import preload_code_set


def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    with_worker: Annotated[
        bool, typer.Option("--worker/--no-worker", help="Run a worker in this process (one-machine setup).")
    ] = True,
) -> None:
    """Run the HTTP API (OpenAPI docs at /docs), with a worker in-process unless --no-worker."""
    # The ICD-10-CM code set takes seconds to load: load it now, not inside the first request.
    preload_code_set()
    with system() as core, worker_in_background(core) if with_worker else contextlib.nullcontext():
        out.print(f"sopwright API on http://{host}:{port} (data dir {core.settings.data_dir})")
        freeze_start_up_objects()
        # The webhook dispatcher runs beside the API (more may run elsewhere: `sopwright webhooks dispatch`).
        # Schedules fire from here too: once per due time however many processes run (a row lease).
        with core.webhooks.dispatcher().in_background(), core.schedules.in_background():
            # log_config=None: uvicorn's loggers go through ours (JSON lines with SOPWRIGHT_LOG_FORMAT=json).
            uvicorn.run(
                create_app(core),
                host=host,
                port=port,
                log_level=core.settings.log_level.lower(),
                log_config=None,
                # Open keep-alive connections (a console tab) must not hold a stop for long.
                timeout_graceful_shutdown=5,
            )


def portal(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8900,
    admin: Annotated[bool, typer.Option(help="Enable the test-only admin API under /_mock/.")] = False,
) -> None:
    """Run the mock payer portal (a separate server; see mock_portal/README.md)."""
    command = [sys.executable, "-m", "mock_portal", "--host", host, "--port", str(port)]
    if admin:
        command.append("--admin")
    # Our own interpreter running our own module: no untrusted input reaches the command.
    proc = subprocess.Popen(command, env=os.environ.copy())  # noqa: S603
    code = 130
    try:
        with stop_on_signals(), contextlib.suppress(KeyboardInterrupt):
            code = proc.wait()
    finally:
        stop(proc, timeout=10)
    raise typer.Exit(code)
