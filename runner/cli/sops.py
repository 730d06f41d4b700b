"""`sopwright sops ...`: list, show, render and validate SOPs; install an account's override."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from runner.cli.context import boundary, fail, out, system
from sops.dataformat import parse_data
from sops.inputs import check_inputs
from sops.loader import SopLibrary, load_sop_file
from sops.render import render_task
from sops.types import TaskType

sops_app = typer.Typer(help="Inspect, render, validate and install SOPs.", no_args_is_help=True)

TypeArg = Annotated[TaskType, typer.Argument(help="Task type.", case_sensitive=False)]


@sops_app.command("list")
def list_sops() -> None:
    """List the built-in SOPs."""
    with boundary():
        library = SopLibrary.builtin()
    table = Table("type", "version", "handler", "steps", "irreversible step")
    for sop in library:
        irreversible = next((s.id for s in sop.steps if s.irreversible), "-")
        table.add_row(
            sop.type.value,
            str(sop.version),
            f"{sop.type.value}_{sop.version}",
            str(len(sop.steps)),
            irreversible,
        )
    out.print(table)


@sops_app.command("show")
def show(task_type: TypeArg) -> None:
    """Print a built-in SOP's YAML source."""
    with boundary():
        SopLibrary.builtin().get(task_type)
    path = Path(__file__).resolve().parents[2] / "sops" / "library" / f"{task_type.value}.yaml"
    typer.echo(path.read_text())


@sops_app.command("render")
def render(
    task_type: TypeArg,
    data: Annotated[str | None, typer.Option(help="Task data (`key: value` lines or JSON).")] = None,
    data_file: Annotated[Path | None, typer.Option(help="Read task data from a file.", exists=True)] = None,
    task_number: Annotated[int, typer.Option(help="Task number for the title.")] = 1,
    sop_file: Annotated[Path | None, typer.Option(help="Render this SOP file instead.", exists=True)] = None,
) -> None:
    """Render a SOP's title and instructions for some task data, and show what the data lacks."""
    text = data_file.read_text() if data_file else (data or "")
    with boundary():
        sop = load_sop_file(sop_file) if sop_file else SopLibrary.builtin().get(task_type)
        raw = parse_data(text) if text.strip() else {}
        checked = check_inputs(task_type, raw, today=datetime.now(UTC).date())
        rendered = render_task(sop, task_number=task_number, fields=checked.fields)
    out.print(f"[bold]handler:[/] {rendered.handler}")
    out.print(f"[bold]title:[/] {rendered.title}")
    out.print(f"[bold]instructions:[/] {rendered.instructions}")
    out.print("[bold]inputs:[/] " + ("complete" if checked.ok else checked.note), highlight=False)


@sops_app.command("validate")
def validate(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="SOP files (default: the built-in library).")
    ] = None,
) -> None:
    """Validate SOP files (or the built-in library); exits 1 naming the file and field at fault."""
    with boundary():
        if not paths:
            library = SopLibrary.builtin()
            out.print(f"Built-in library OK: {', '.join(s.type.value for s in library)}.")
            return
        for path in paths:
            if not path.is_file():
                fail(f"{path}: no such file.")
            sop = load_sop_file(path)
            out.print(f"{path}: OK ({sop.type.value} version {sop.version}).")


@sops_app.command("install")
def install(
    account: Annotated[str, typer.Argument(help="Account name or id.")],
    path: Annotated[Path, typer.Argument(help="The SOP YAML file.", exists=True, dir_okay=False)],
) -> None:
    """Install an account's own SOP for one task type (validated first; replaces an earlier one)."""
    with system() as core:
        found = core.accounts.find(account)
        sop = core.sops.install(found.id, path.read_text(), source=str(path))
    out.print(
        f"Installed {sop.type.value} version {sop.version} for [bold]{found.name}[/]; new tasks use it."
    )


@sops_app.command("uninstall")
def uninstall(
    account: Annotated[str, typer.Argument(help="Account name or id.")], task_type: TypeArg
) -> None:
    """Remove an account's override: its new tasks use the built-in SOP again."""
    with system() as core:
        found = core.accounts.find(account)
        core.sops.remove(found.id, task_type)
    out.print(f"Removed the {task_type.value} override of [bold]{found.name}[/].")
