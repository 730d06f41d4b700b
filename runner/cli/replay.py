"""`sopwright replay`: run a SOP straight against a portal — no API, no database — printing each
step as it happens. This is how SOP authors work against the mock portal."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from playwright.async_api import Page, async_playwright
from rich.table import Table

from handlers.browser import BrowserNotFound, launch_options
from handlers.context import Credentials, Document, StepContext
from handlers.engine import GateReached, Pacing, Resume, run_sop
from handlers.errors import StepError
from handlers.portals import portal_handlers
from handlers.registry import PortalHandler
from runner.cli.context import boundary, fail, out
from runner.core.files import sniff
from sops.dataformat import parse_data
from sops.inputs import check_inputs
from sops.loader import SopLibrary, load_sop_file
from sops.render import render_outcome
from sops.results import UndeclaredResult, check_result
from sops.schema import Sop, Step
from sops.types import Outcome, TaskType


class ConsoleHooks:
    """Prints each step live; the irreversible step is announced before it runs."""

    def __init__(self) -> None:
        self._started: dict[int, float] = {}

    async def step_started(self, position: int, step: Step) -> None:
        self._started[position] = time.monotonic()
        out.print(f"[dim]{position + 1:>2}.[/] {step.id} [dim]({step.do})[/] ...", highlight=False)

    async def step_finished(self, position: int, step: Step, *, outcome: str, message: str | None) -> None:
        took = time.monotonic() - self._started.get(position, time.monotonic())
        colour = "green" if outcome in ("ok", "reconciled", "skipped") else "red"
        extra = f" — {message}" if message else ""
        out.print(f"    [{colour}]{outcome}[/] in {took:.1f} s{extra}", highlight=False)

    async def before_irreversible(self, step: Step) -> None:
        out.print(f"    [yellow]point of no return: {step.id}[/]")


def replay(
    task_type: Annotated[TaskType, typer.Argument(help="Task type.", case_sensitive=False)],
    portal: Annotated[str, typer.Option(help="The portal's base URL (mock: server + payer base path).")],
    payer: Annotated[str, typer.Option(help="Portal key, e.g. acme or beacon.")],
    username: Annotated[str, typer.Option(help="Portal user name.")],
    password_env: Annotated[str, typer.Option(help="Variable holding the portal password.")],
    data: Annotated[str | None, typer.Option(help="Task data (`key: value` lines or JSON).")] = None,
    data_file: Annotated[Path | None, typer.Option(help="Read task data from a file.", exists=True)] = None,
    file: Annotated[
        list[Path] | None, typer.Option("--file", help="A document to upload.", exists=True)
    ] = None,
    totp_secret_env: Annotated[str | None, typer.Option(help="Variable holding the TOTP secret.")] = None,
    sop_file: Annotated[Path | None, typer.Option(help="Run this SOP file instead of the built-in.")] = None,
    approve: Annotated[list[str] | None, typer.Option(help="Pass this review gate (step id).")] = None,
    headed: Annotated[bool, typer.Option(help="Show the browser.")] = False,
    slow_mo: Annotated[float, typer.Option(help="Slow each browser action by MS milliseconds.")] = 0,
    trace: Annotated[Path | None, typer.Option(help="Write a Playwright trace here.")] = None,
    poll_scale: Annotated[float, typer.Option(help="Multiply the SOP's poll intervals.")] = 1.0,
) -> None:
    """Run a SOP against a portal and print each step and the result."""
    if (data is None) == (data_file is None):
        fail("Give exactly one of --data TEXT or --data-file FILE.")
    password = os.environ.get(password_env)
    if not password:
        fail(f"The variable {password_env} is not set (or empty).")
    totp = os.environ.get(totp_secret_env) if totp_secret_env else None
    if totp_secret_env and not totp:
        fail(f"The variable {totp_secret_env} is not set (or empty).")
    handlers = portal_handlers()
    if payer not in handlers:
        fail(f"No step scripts for portal {payer!r}; known: {', '.join(sorted(handlers)) or 'none'}.")
    text = data if data is not None else data_file.read_text()  # type: ignore[union-attr]
    with boundary():
        sop = load_sop_file(sop_file) if sop_file else SopLibrary.builtin().get(task_type)
        checked = check_inputs(task_type, parse_data(text), today=datetime.now(UTC).date())
    if not checked.ok:
        fail(f"The data is not complete: {checked.note}")
    documents = [_document(path) for path in file or []]

    def make_context(page: Page) -> StepContext:
        return StepContext(
            page=page,
            task_type=task_type,
            fields=checked.fields,
            credentials=Credentials(username, password, totp),
            portal_url=portal.rstrip("/"),
            uploads=documents,
        )

    try:
        options = launch_options(None, headless=not headed, slow_mo=slow_mo)
    except BrowserNotFound as exc:
        fail(str(exc))
    out.print(f"[bold]{sop.type.value} v{sop.version}[/] on {handlers[payer].name} ({portal})")
    outcome, ctx = asyncio.run(
        _run(sop, handlers[payer], make_context, options, set(approve or []), trace, poll_scale)
    )
    if outcome is None:
        raise typer.Exit(2)
    if ctx.result:  # as the worker does where an attempt concludes
        ctx.result["portal"] = payer
    try:
        check_result(task_type, ctx.result)
    except UndeclaredResult as exc:
        fail(f"The step scripts are wrong: {exc.message}.")
    notes = render_outcome(sop, outcome, fields=checked.fields, result=ctx.result, task_number=1)
    table = Table("result", "value", show_header=False)
    for key, value in ctx.result.items():
        table.add_row(key, json.dumps(value) if not isinstance(value, str) else value)
    out.print(table)
    out.print(f"[bold]{outcome}[/]: {notes}")
    raise typer.Exit(0 if outcome is not Outcome.FAILED else 1)


async def _run(
    sop: Sop,
    portal: PortalHandler,
    make_context: Callable[[Page], StepContext],
    options: dict[str, Any],
    approved: set[str],
    trace: Path | None,
    poll_scale: float,
) -> tuple[Outcome | None, StepContext]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(**options)
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        if trace:
            await context.tracing.start(screenshots=True, snapshots=True)
        page = await context.new_page()
        ctx = make_context(page)
        outcome: Outcome | None = None
        try:
            outcome = await run_sop(
                sop,
                portal,
                ctx,
                ConsoleHooks(),
                resume=Resume(approved_gates=frozenset(approved)),
                pacing=Pacing(poll_scale),
            )
        except GateReached as exc:
            out.print(f"[yellow]review gate:[/] {exc.message} Re-run with --approve {exc.gate} to pass it.")
        except StepError as exc:
            out.print(f"[red]{type(exc).__name__}:[/] {exc.message}")
        finally:
            if trace:
                await context.tracing.stop(path=str(trace))
                out.print(f"trace written to {trace} (open it with `playwright show-trace {trace}`)")
            await browser.close()
    return outcome, ctx


def _document(path: Path) -> Document:
    content_type = sniff(path.read_bytes()[:65536]) or "application/octet-stream"
    return Document(path.resolve(), path.name, content_type)
