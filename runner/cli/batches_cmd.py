"""`sopwright tasks import` (a CSV file as a batch) and `sopwright batches ...` (progress, results)."""

from __future__ import annotations

import contextlib
import csv
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from runner.cli.children import stop_on_signals
from runner.cli.context import fail, out, print_json, system
from runner.core import batchfile
from runner.core.batches import fingerprint
from runner.core.batchstate import BatchPublic, batch_public
from runner.core.system import System
from sops.types import TaskType

tasks_app = typer.Typer(help="Tasks in bulk: import a CSV file as a batch.", no_args_is_help=True)
batches_app = typer.Typer(help="Batches: progress, counts by status, results.", no_args_is_help=True)

POLL_SECONDS = 2.0


@tasks_app.command("import")
def import_tasks(
    account: Annotated[str, typer.Argument(help="Account name or id.")],
    file: Annotated[Path, typer.Argument(help="CSV UTF-8 with a header row of field names.", dir_okay=False)],
    type: Annotated[
        TaskType | None, typer.Option(help="Task type of every row (else a `type` column).")
    ] = None,
    priority: Annotated[str | None, typer.Option(help="Lane: batch (default) or interactive.")] = None,
    idempotency_key: Annotated[
        str | None, typer.Option(help="Importing again with it creates nothing.")
    ] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Show progress until every task is final.")] = False,
) -> None:
    """Create one task per row of FILE (refused rows are listed with their reason)."""
    if not file.is_file():
        fail(f"No such file: {file}")
    with system() as core:
        found = core.accounts.find(account)
        size = file.stat().st_size
        batchfile.check_size(size, core.settings.batch_max_bytes)
        content = file.read_bytes()
        rows = batchfile.read_csv(content, max_rows=core.settings.batch_max_rows)
        kind = type.value if type else None
        with _bar() as bar:
            checking = bar.add_task("checking rows", total=len(rows.rows))
            batch = core.batches.create(
                found,
                rows,
                type=kind,
                priority=priority,
                source=file.name,
                request_hash=fingerprint(kind, priority, content),
                idempotency_key=idempotency_key,
                actor="cli",
                progress=lambda n: bar.update(checking, completed=n),
            )
        assert batch.id is not None
        shown = batch_public(*core.batches.get(None, batch.id))
        _summary(shown)
        if wait and shown.created:
            _wait(core, batch.id, shown.created)


@batches_app.command("show")
def show(
    batch_id: Annotated[int, typer.Argument(help="The batch's id.")],
    csv_out: Annotated[Path | None, typer.Option("--csv", help="Write the results CSV here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """A batch's counts by status, its refused rows, and optionally its results as CSV."""
    with system() as core:
        shown = batch_public(*core.batches.get(None, batch_id))
        if csv_out is not None:
            with csv_out.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                lines = 0
                for record in core.batches.results(None, batch_id):
                    writer.writerow(record)
                    lines += 1
            out.print(f"Wrote {lines - 1} result rows to {csv_out}.")
    if as_json:
        print_json(shown.model_dump(mode="json", by_alias=True))
        return
    _summary(shown)


@batches_app.command("list")
def list_batches(
    account: Annotated[str, typer.Argument(help="Account name or id.")],
    limit: Annotated[int, typer.Option(min=1, max=100)] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The account's batches, newest first."""
    with system() as core:
        found = core.accounts.find(account)
        shown = [batch_public(*view) for view in core.batches.recent(found.id, limit=limit)]
    if as_json:
        print_json([b.model_dump(mode="json", by_alias=True) for b in shown])
        return
    table = Table("id", "source", "type", "created", "refused", "finished", "progress", "created at")
    for b in shown:
        table.add_row(
            str(b.id),
            b.source,
            b.type or "(per row)",
            str(b.created),
            str(len({r.row for r in b.refused})),
            str(b.finished),
            f"{b.progress:.0%}",
            b.created_at,
        )
    out.print(table)


def _bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=out
    )


def _summary(batch: BatchPublic) -> None:
    refused_rows = len({r.row for r in batch.refused})
    out.print(
        f"Batch {batch.id} ({batch.source}): {batch.rows} rows, {batch.created} tasks created "
        f"({batch.waiting_for_input} waiting for input), {refused_rows} rows refused; "
        f"{batch.finished} of {batch.created} final."
    )
    counts = ", ".join(f"{status} {n}" for status, n in batch.counts.items() if n)
    if counts:
        out.print(f"By status: {counts}.")
    if batch.refused:
        table = Table("row", "field", "reason", title="Refused rows (nothing was created for them)")
        for refusal in batch.refused[:50]:
            table.add_row(str(refusal.row), refusal.field or "-", refusal.reason)
        out.print(table)
        if len(batch.refused) > 50:
            out.print(
                f"... and {len(batch.refused) - 50} more: `sopwright batches show {batch.id} --csv FILE`."
            )


def _wait(core: System, batch_id: int, total: int) -> None:
    """Poll the batch's counts until every task is final; Ctrl-C or SIGTERM stops waiting (the
    batch goes on). `stop_on_signals` raises out of the wait (a handler that set an Event instead
    could deadlock on the lock of the Event this thread waits on)."""
    with contextlib.suppress(SystemExit, KeyboardInterrupt), stop_on_signals():
        out.print(f"Waiting until its {total} tasks are final; Ctrl-C stops the wait, not the batch.")
        _poll(core, batch_id, total)
    _summary(batch_public(*core.batches.get(None, batch_id)))


def _poll(core: System, batch_id: int, total: int) -> None:
    with _bar() as bar:
        running = bar.add_task("final", total=total)
        while True:
            batch, counts, _ = core.batches.get(None, batch_id)
            bar.update(running, completed=sum(n for status, n in counts.items() if status.is_final))
            if batch.finished_at is not None:
                break
            time.sleep(POLL_SECONDS)
