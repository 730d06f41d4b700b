"""`sopwright db ...`: database schema migrations."""

from __future__ import annotations

from typing import Annotated

import typer

from runner.cli.context import boundary, load_settings, out
from runner.core import db

db_app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Apply schema migrations (the embedded SQLite default also does this on start)."""
    settings = load_settings()
    with boundary():
        engine = db.create_engine(settings.resolved_database_url())
        db.upgrade(engine, revision)
        out.print(f"Database at revision {db.current_revision(engine)}.")
        engine.dispose()


@db_app.command("current")
def current() -> None:
    """Show the database's schema revision and the code's."""
    settings = load_settings()
    with boundary():
        engine = db.create_engine(settings.resolved_database_url())
        out.print(f"database: {db.current_revision(engine) or 'empty'}; code: {db.head_revision()}")
        engine.dispose()
