"""`sopwright portals add --name`: a login is named as the staff know the portal (the portal's
own name by default), `portals list` shows it, and the migration names logins that predate it."""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from typer.testing import CliRunner

from runner.cli.main import app
from runner.core import db
from runner.core.settings import Settings
from runner.core.system import build


def test_cli_names_a_login_after_its_portal_or_as_told(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SOPWRIGHT_")},
        "SOPWRIGHT_DATA_DIR": str(tmp_path / "data"),
        "SOPWRIGHT_ALLOW_HOSTS": "127.0.0.1",
        "PORTAL_PASSWORD": "pw",
    }
    runner = CliRunner()
    assert runner.invoke(app, ["accounts", "create", "Clinic"], env=env).exit_code == 0
    add = ["portals", "add", "Clinic", "--username", "u", "--password-env", "PORTAL_PASSWORD"]
    beacon = [*add, "--payer", "beacon", "--url", "http://127.0.0.1:8900/beacon"]
    acme = [
        *[*add, "--payer", "acme", "--url", "http://127.0.0.1:8900/acme", "--name", "Acme Provider Portal"],
        *["--listing-delay", "30"],  # minutes
    ]
    first = runner.invoke(app, beacon, env=env)
    assert first.exit_code == 0, first.stderr
    assert "Beacon Exchange (beacon)" in " ".join(first.stdout.split())
    assert runner.invoke(app, acme, env=env).exit_code == 0
    # (The table's width is the console's, fixed when the CLI is first imported: its cells are
    # not asserted here; the rows are, below.)
    assert runner.invoke(app, ["portals", "list", "Clinic"], env=env).exit_code == 0
    core = build(Settings(data_dir=tmp_path / "data", database_url=None, allow_hosts="127.0.0.1"))
    try:
        [account] = core.accounts.all()
        logins = {r.payer: (r.name, r.listing_delay) for r in core.credentials.of_account(account.id)}
    finally:
        core.close()
    assert logins == {"acme": ("Acme Provider Portal", 1800), "beacon": ("Beacon Exchange", None)}
    too_long = runner.invoke(app, [*beacon, "--name", "x" * 201], env=env)
    assert too_long.exit_code == 1 and "portal name" in too_long.stderr and "Traceback" not in too_long.output


def test_the_migration_names_existing_logins_after_their_portal(tmp_path: Path) -> None:
    engine = db.create_engine(f"sqlite:///{tmp_path}/old.db")
    db.upgrade(engine, "0004")
    stamp = "'2026-12-01 00:00:00'"
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO accounts (id, name, webhook_secret_enc, webhook_events, defaults, task_counter, "
            f"created_at, updated_at) VALUES ('a1', 'Clinic', '', '[]', '{{}}', 0, {stamp}, {stamp})"
        )
        for n, payer in enumerate(("acme", "beacon", "other")):
            conn.exec_driver_sql(
                "INSERT INTO portal_credentials (id, account_id, payer, url, serves, username, password_enc, "
                "max_sessions, rate_per_minute, consecutive_login_failures, created_at, updated_at) "
                f"VALUES ('c{n}', 'a1', '{payer}', 'https://x.test', '[]', 'u', '', 2, 30, 0, {stamp}, "
                f"{stamp})"
            )
    db.upgrade(engine, "0007")
    with engine.connect() as conn:
        names = {
            payer: name for payer, name in conn.execute(sa.text("SELECT payer, name FROM portal_credentials"))
        }
    engine.dispose()
    assert names == {"acme": "Acme Health", "beacon": "Beacon Exchange", "other": "other"}
