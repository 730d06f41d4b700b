"""`sopwright portals ...`: the portal logins the workers use, per account and payer."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer
from rich.table import Table

from runner.cli.context import fail, out, system

portals_app = typer.Typer(help="Portal logins the workers use, per account and payer.", no_args_is_help=True)


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
    listing_delay: Annotated[
        int | None,
        typer.Option(
            help="Minutes this portal may take to list a new submission in its search: a task that "
            "crashed past its submit looks for it that long before asking a person "
            "(default: SOPWRIGHT_LISTING_DELAY).",
            min=0,
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
            listing_delay=None if listing_delay is None else listing_delay * 60,
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
    table = Table(
        "id", "payer", "name", "serves", "url", "username", "TOTP", "sessions", "rate/min", "listing", "state"
    )
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
            "default" if r.listing_delay is None else f"{r.listing_delay // 60} min",
            state,
        )
    out.print(table)
