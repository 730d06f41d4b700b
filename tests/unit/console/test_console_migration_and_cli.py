"""Migration 0002 (operators, sessions) up and down; `sopwright users ...`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from typer.testing import CliRunner

from runner.cli.main import app
from runner.core import db
from runner.core.settings import Settings
from runner.core.system import build


def test_migration_0002_adds_and_removes_the_operator_tables(database_url: str) -> None:
    engine = db.create_engine(database_url)
    try:
        db.upgrade(engine)
        command.downgrade(db._alembic_config(engine), "0001")
        assert "operators" not in sa.inspect(engine).get_table_names()
        db.upgrade(engine, "0002")
        assert {"operators", "operator_sessions"} <= set(sa.inspect(engine).get_table_names())
        indexes = sa.inspect(engine).get_indexes("operators")
        assert ["email"] in [i["column_names"] for i in indexes if i["unique"]]
        db.upgrade(engine)
    finally:
        engine.dispose()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "SOPWRIGHT_DATA_DIR": str(tmp_path / "data"),
        "SOPWRIGHT_DATABASE_URL": "",
        "SOPWRIGHT_SECRET_KEY": "",
        "OPERATOR_PASSWORD": "a long synthetic password",
    }


def invoke(args: list[str], env: dict[str, str], stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, args, env=env, input=stdin, catch_exceptions=False)
    return result.exit_code, result.stdout + result.stderr


def test_users_create_from_env_or_stdin_then_sign_in(env: dict[str, str], tmp_path: Path) -> None:
    assert invoke(["accounts", "create", "Clinic"], env)[0] == 0
    code, out = invoke(
        [
            "users",
            "create",
            "Clinic",
            "ada@example.test",
            "--role",
            "admin",
            "--password-env",
            "OPERATOR_PASSWORD",
        ],
        env,
    )
    assert code == 0, out
    assert "ada@example.test" in out and "a long synthetic password" not in out
    code, out = invoke(
        ["users", "create", "Clinic", "vic@example.test", "--role", "viewer"], env, "piped password 1\n"
    )
    assert code == 0, out
    code, out = invoke(["users", "list", "Clinic"], env)
    assert "ada@example.test" in out and "vic@example.test" in out and "viewer" in out
    core = build(Settings(data_dir=tmp_path / "data"))
    try:
        assert (
            core.operators.sign_in("ada@example.test", "a long synthetic password")[0].role.value == "admin"
        )
        assert core.operators.sign_in("vic@example.test", "piped password 1")[0].role.value == "viewer"
    finally:
        core.close()


def test_users_create_refuses_what_it_cannot_use(env: dict[str, str]) -> None:
    invoke(["accounts", "create", "Clinic"], env)
    code, out = invoke(["users", "create", "Clinic", "x@example.test", "--role", "viewer"], env, "short\n")
    assert code == 1 and "at least 12 characters" in out
    code, out = invoke(
        ["users", "create", "Clinic", "x@example.test", "--role", "boss"], env, "long enough pw!\n"
    )
    assert code == 2
    code, out = invoke(
        [
            "users",
            "create",
            "Nope",
            "x@example.test",
            "--role",
            "viewer",
            "--password-env",
            "OPERATOR_PASSWORD",
        ],
        env,
    )
    assert code == 1 and "No account" in out
    code, out = invoke(
        ["users", "create", "Clinic", "x@example.test", "--role", "viewer", "--password-env", "UNSET_VAR"],
        env,
    )
    assert code == 1 and "UNSET_VAR" in out


def test_users_set_password_and_unlock(env: dict[str, str]) -> None:
    invoke(["accounts", "create", "Clinic"], env)
    invoke(
        [
            "users",
            "create",
            "Clinic",
            "ada@example.test",
            "--role",
            "admin",
            "--password-env",
            "OPERATOR_PASSWORD",
        ],
        env,
    )
    assert invoke(["users", "set-password", "ada@example.test"], env, "another long password\n")[0] == 0
    assert invoke(["users", "unlock", "ada@example.test"], env)[0] == 0
    assert invoke(["users", "set-role", "ada@example.test", "--role", "reviewer"], env)[0] == 0
    code, out = invoke(["users", "unlock", "nobody@example.test"], env)
    assert code == 1 and "No operator" in out
