"""`sopwright users ...`: the people who sign in to the console (/console)."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer
from rich.table import Table

from runner.cli.context import fail, out, system
from runner.core.operators import Role
from runner.core.public import iso_z

users_app = typer.Typer(
    help="Console operators: create, list, reset passwords, unlock.", no_args_is_help=True
)

PasswordEnv = Annotated[
    str | None,
    typer.Option("--password-env", metavar="VAR", help="Read the password from this environment variable."),
]


def _password(env_var: str | None) -> str:
    """From the named variable, else from stdin (a prompt on a terminal, one line from a pipe)."""
    if env_var:
        value = os.environ.get(env_var)
        if not value:
            fail(f"The environment variable {env_var} is not set or empty.")
        return value
    if sys.stdin.isatty():
        return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        fail("No password given: pipe it on stdin or use --password-env VAR.")
    return line


@users_app.command("create")
def create(
    account: Annotated[str, typer.Argument(help="Account name or id.")],
    email: Annotated[str, typer.Argument(help="The operator's email (their sign-in name).")],
    role: Annotated[
        Role, typer.Option(help="viewer reads; reviewer also answers and reviews; admin also manages.")
    ],
    password_env: PasswordEnv = None,
) -> None:
    """Create an operator of ACCOUNT who signs in to the console with EMAIL and a password."""
    password = _password(password_env)
    with system() as core:
        found = core.accounts.find(account)
        row = core.operators.create(found.id, email, role=role, password=password)
    out.print(f"Operator [bold]{row.email}[/] ({row.role}) created for {found.name}; sign in at /console.")


@users_app.command("list")
def list_users(account: Annotated[str, typer.Argument(help="Account name or id.")]) -> None:
    """List an account's operators."""
    with system() as core:
        found = core.accounts.find(account)
        rows = core.operators.of_account(found.id)
    table = Table("email", "role", "last sign-in", "locked until")
    for r in rows:
        table.add_row(r.email, r.role, iso_z(r.last_login_at) or "-", iso_z(r.locked_until) or "-")
    out.print(table)


@users_app.command("set-password")
def set_password(email: str, password_env: PasswordEnv = None) -> None:
    """Give an operator a new password (clears a lockout, signs them out everywhere)."""
    password = _password(password_env)
    with system() as core:
        row = core.operators.set_password(email, password)
    out.print(f"Password of {row.email} changed; their sessions were ended.")


@users_app.command("set-role")
def set_role(email: str, role: Annotated[Role, typer.Option()]) -> None:
    """Change an operator's role."""
    with system() as core:
        row = core.operators.set_role(email, role)
    out.print(f"{row.email} is now {row.role}.")


@users_app.command("unlock")
def unlock(email: str) -> None:
    """End a lockout after repeated wrong passwords."""
    with system() as core:
        row = core.operators.unlock(email)
    out.print(f"{row.email} can sign in again.")
