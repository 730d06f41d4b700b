"""`sopwright keys ...`: create, list and revoke an account's API keys."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from runner.cli.context import out, print_json, system
from runner.core.public import iso_z

keys_app = typer.Typer(help="Create and revoke API keys.", no_args_is_help=True)


@keys_app.command("create")
def create_key(
    account: Annotated[str, typer.Argument(help="Account name or id.")],
    label: Annotated[str | None, typer.Option(help="A note to recognise the key by.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create another API key for an account (shown once)."""
    with system() as core:
        found = core.accounts.find(account)
        row, plaintext = core.accounts.create_key(found.id, label=label)
    if as_json:
        print_json({"key_id": row.id, "api_key": plaintext, "account_id": found.id})
        return
    out.print(f"API key {row.id} for [bold]{found.name}[/]: {plaintext}")
    out.print("[yellow]Store it now: it is not shown again.[/]")


@keys_app.command("list")
def list_keys(account: Annotated[str, typer.Argument(help="Account name or id.")]) -> None:
    """List an account's API keys (ids only; secrets are never stored)."""
    with system() as core:
        found = core.accounts.find(account)
        rows = core.accounts.list_keys(found.id)
    table = Table("key id", "label", "created", "revoked")
    for r in rows:
        table.add_row(r.id, r.label or "-", iso_z(r.created_at), iso_z(r.revoked_at) or "-")
    out.print(table)


@keys_app.command("revoke")
def revoke_key(key_id: Annotated[str, typer.Argument(help="The key id (or the whole key).")]) -> None:
    """Revoke an API key: requests with it get 401 from now on."""
    with system() as core:
        row = core.accounts.revoke_key(key_id)
    out.print(f"API key {row.id} revoked.")
