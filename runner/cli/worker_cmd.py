"""`sopwright worker`, `sopwright portals ...` and `sopwright artifacts prune`."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Annotated

import typer
from prometheus_client import start_http_server
from rich.table import Table

from runner.cli.context import boundary, fail, out, system
from runner.core.metrics import process_wide, scrape_registry
from runner.core.runtime import build_worker
from runner.core.system import System
from runner.core.worker import Worker, WorkerStats

portals_app = typer.Typer(help="Portal logins the workers use, per account and payer.", no_args_is_help=True)
artifacts_app = typer.Typer(help="Screenshots, page HTML and traces of task attempts.", no_args_is_help=True)


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


@portals_app.command("add")
def add_portal(
    account: Annotated[str, typer.Argument(help="Account name or id.")],
    payer: Annotated[str, typer.Option(help="Portal kind, e.g. acme or beacon (the mock's payer keys).")],
    url: Annotated[str, typer.Option(help="The portal's base URL (for the mock: server + base path).")],
    username: Annotated[str, typer.Option(help="Portal user name.")],
    password_env: Annotated[str | None, typer.Option(help="Read the password from this variable.")] = None,
    password_stdin: Annotated[bool, typer.Option(help="Read the password from standard input.")] = False,
    totp_secret_env: Annotated[
        str | None, typer.Option(help="Read the TOTP secret from this variable.")
    ] = None,
    serves: Annotated[
        list[str] | None,
        typer.Option(help="A payer reached through this login (repeat; for multi-payer exchanges)."),
    ] = None,
    max_sessions: Annotated[
        int, typer.Option(help="Sessions at once on this login, across all workers.")
    ] = 2,
    rate_per_minute: Annotated[
        int, typer.Option(help="Sessions started per minute on this login, across all workers.")
    ] = 30,
    name: Annotated[
        str | None,
        typer.Option(
            help="The portal as your staff call it, shown in task instructions "
            "(default: the portal's own name, e.g. Beacon Exchange; a replaced login keeps its name)."
        ),
    ] = None,
) -> None:
    """Add (or update) a portal login; secrets are encrypted at rest and never printed."""
    if bool(password_env) == password_stdin:
        fail("Give exactly one of --password-env VAR or --password-stdin.")
    if password_env:
        password = os.environ.get(password_env)
        if not password:
            fail(f"The variable {password_env} is not set (or empty).")
    else:
        password = sys.stdin.readline().rstrip("\n")
        if not password:
            fail("No password on standard input.")
    totp = None
    if totp_secret_env:
        totp = os.environ.get(totp_secret_env)
        if not totp:
            fail(f"The variable {totp_secret_env} is not set (or empty).")
    with system() as core:
        found = core.accounts.find(account)
        row = core.credentials.add(
            found.id,
            payer=payer,
            url=url,
            username=username,
            password=password,
            totp_secret=totp,
            serves=serves,
            max_sessions=max_sessions,
            rate_per_minute=rate_per_minute,
            name=name,
        )
    out.print(
        f"Portal login {row.id} for [bold]{found.name}[/]: {row.name} ({row.payer}) at {row.url} "
        f"as {row.username}."
    )


@portals_app.command("list")
def list_portals(account: Annotated[str, typer.Argument(help="Account name or id.")]) -> None:
    """List an account's portal logins (never their secrets)."""
    with system() as core:
        found = core.accounts.find(account)
        rows = core.credentials.of_account(found.id)
    table = Table("id", "payer", "name", "serves", "url", "username", "TOTP", "sessions", "rate/min", "state")
    for r in rows:
        state = f"stopped: {r.disabled_reason}" if r.disabled_at else "ok"
        table.add_row(
            r.id,
            r.payer,
            r.name,
            ", ".join(r.serves) or "-",
            r.url,
            r.username,
            "yes" if r.totp_secret_enc else "no",
            str(r.max_sessions),
            str(r.rate_per_minute),
            state,
        )
    out.print(table)


@artifacts_app.command("prune")
def prune(
    older_than_days: Annotated[float | None, typer.Option(help="Default: the retention setting.")] = None,
) -> None:
    """Delete screenshots, page HTML and traces older than the retention period."""
    with system() as core:
        days = older_than_days if older_than_days is not None else core.settings.artifact_retention_days
        removed = core.artifacts.prune(older_than_days=days)
    out.print(f"Removed the artifacts of {removed} attempt(s) older than {days:g} days.")
