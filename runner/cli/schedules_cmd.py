"""`sopwright schedules ...`: cron schedules that create a batch from a CSV on each firing."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from runner.cli.context import out, print_json, system
from runner.core.public import iso_z
from sops.types import TaskType

schedules_app = typer.Typer(
    help="Schedules: a cron expression that imports a CSV (a path or an https URL) as a batch.",
    no_args_is_help=True,
)


@schedules_app.command("add")
def add(
    account: Annotated[str, typer.Argument(help="Account name or id.")],
    cron: Annotated[str, typer.Option(help='Five fields, e.g. "0 18 * * 1-5" (18:00 on weekdays).')],
    type: Annotated[TaskType, typer.Option(help="Task type of every row.")],
    source: Annotated[
        str,
        typer.Option(
            "--from", help="A CSV path or URL; {date} is the firing's date, {date+1} the next business day."
        ),
    ],
    timezone: Annotated[
        str | None, typer.Option(help="IANA zone of the cron times (default: the account's, else UTC).")
    ] = None,
    priority: Annotated[str | None, typer.Option(help="Lane: batch (default) or interactive.")] = None,
) -> None:
    """Create a schedule; it fires from every running `serve` and `worker` (once per due time)."""
    with system() as core:
        found = core.accounts.find(account)
        schedule = core.schedules.add(
            found, cron=cron, type=type.value, source=source, timezone=timezone, priority=priority
        )
    out.print(f"Schedule {schedule.id}: next firing {iso_z(schedule.next_fire_at)} ({schedule.timezone}).")


@schedules_app.command("list")
def list_schedules(
    account: Annotated[str | None, typer.Argument(help="Account name or id.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Schedules with their next firing and last outcome."""
    with system() as core:
        account_id = core.accounts.find(account).id if account else None
        found = core.schedules.of_account(account_id)
        public_ids = {a.id: a.public_id for a in core.accounts.all()}  # the ids clients see
    if as_json:
        print_json(
            [
                {
                    "id": s.id,
                    "account_id": public_ids.get(s.account_id),
                    "cron": s.cron,
                    "timezone": s.timezone,
                    "type": s.type,
                    "source": s.source,
                    "priority": s.priority,
                    "paused": s.paused_at is not None,
                    "next_fire_at": iso_z(s.next_fire_at),
                    "last_fired_at": iso_z(s.last_fired_at),
                    "last_batch_id": s.last_batch_id,
                    "last_error": s.last_error,
                }
                for s in found
            ]
        )
        return
    table = Table("id", "cron", "zone", "type", "source", "next", "last batch", "last error")
    for s in found:
        table.add_row(
            str(s.id),
            s.cron,
            s.timezone,
            s.type,
            s.source,
            "paused" if s.paused_at else (iso_z(s.next_fire_at) or "-"),
            str(s.last_batch_id or "-"),
            (s.last_error or "-")[:80],
        )
    out.print(table)


@schedules_app.command("pause")
def pause(schedule_id: Annotated[int, typer.Argument(help="The schedule's id.")]) -> None:
    """Stop firing until resumed."""
    with system() as core:
        core.schedules.pause(schedule_id)
    out.print(f"Schedule {schedule_id} paused.")


@schedules_app.command("resume")
def resume(schedule_id: Annotated[int, typer.Argument(help="The schedule's id.")]) -> None:
    """Fire again from the next due time (firings missed while paused are not made up)."""
    with system() as core:
        schedule = core.schedules.resume(schedule_id)
    out.print(f"Schedule {schedule_id} resumed: next firing {iso_z(schedule.next_fire_at)}.")


@schedules_app.command("remove")
def remove(schedule_id: Annotated[int, typer.Argument(help="The schedule's id.")]) -> None:
    """Delete the schedule (its batches stay)."""
    with system() as core:
        core.schedules.remove(schedule_id)
    out.print(f"Schedule {schedule_id} removed.")


@schedules_app.command("run-now")
def run_now(schedule_id: Annotated[int, typer.Argument(help="The schedule's id.")]) -> None:
    """Fire once now (the next due time does not move)."""
    with system() as core:
        batch = core.schedules.run_now(schedule_id)
    out.print(f"Schedule {schedule_id} fired: batch {batch.id} with {batch.created} tasks.")
