"""`sopwright artifacts ...`: screenshots, page HTML and traces of task attempts."""

from __future__ import annotations

from typing import Annotated

import typer

from runner.cli.context import out, system

artifacts_app = typer.Typer(help="Screenshots, page HTML and traces of task attempts.", no_args_is_help=True)


@artifacts_app.command("prune")
def prune(
    older_than_days: Annotated[float | None, typer.Option(help="Default: the retention setting.")] = None,
) -> None:
    """Delete screenshots, page HTML and traces older than the retention period."""
    with system() as core:
        days = older_than_days if older_than_days is not None else core.settings.artifact_retention_days
        removed = core.artifacts.prune(older_than_days=days)
    out.print(f"Removed the artifacts of {removed} attempt(s) older than {days:g} days.")
