"""The migrations build exactly the schema the models describe, on both backends, and go down cleanly."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from runner.core import db
from runner.core.credentials import SESSION, PortalCredentials
from runner.core.crypto import SecretBox
from runner.core.errors import ConfigError
from runner.core.tables import metadata


def test_migrations_match_the_models(database_url: str) -> None:
    engine = db.create_engine(database_url)
    db.upgrade(engine)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), metadata)
    engine.dispose()
    assert diff == [], f"models and migrations differ; add a migration: {diff}"


def test_upgrade_is_idempotent_and_current(tmp_path: object) -> None:
    engine = db.create_engine(f"sqlite:///{tmp_path}/m.db")
    assert db.current_revision(engine) is None
    db.upgrade(engine)
    db.upgrade(engine)
    assert db.current_revision(engine) == db.head_revision()
    db.require_current(engine)
    assert "tasks" in sa.inspect(engine).get_table_names()
    engine.dispose()


def test_a_database_behind_the_code_is_refused_with_the_fix(tmp_path: object) -> None:
    engine = db.create_engine(f"sqlite:///{tmp_path}/old.db")
    with pytest.raises(ConfigError, match="sopwright db upgrade"):
        db.require_current(engine)
    engine.dispose()


def test_a_logins_saved_session_becomes_its_slot_0s(empty_url: str) -> None:
    """0013: the one session a login saved moves to slot 0 as it is (same seal) and still opens;
    going down takes it back."""
    engine = db.create_engine(empty_url)
    db.upgrade(engine, "0012")
    box = SecretBox(os.urandom(32))
    account_id, login_id, now = str(uuid.uuid4()), str(uuid.uuid4()), datetime.now(UTC)
    sealed = box.seal('{"cookies": []}', purpose=SESSION, account_id=account_id, record_id=login_id)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO accounts (id, public_id, name, webhook_secret_enc, webhook_events, "
                "defaults, task_counter, created_at, updated_at) "
                "VALUES (:id, 1, 'Clinic', 'x', '[]', '{}', 0, :now, :now)"
            ),
            {"id": account_id, "now": now},
        )
        connection.execute(
            sa.text(
                "INSERT INTO portal_credentials (id, account_id, payer, name, url, serves, username, "
                "password_enc, storage_state_enc, max_sessions, rate_per_minute, "
                "consecutive_login_failures, created_at, updated_at) VALUES (:id, :account, 'fake', '', "
                "'http://portal.invalid', '[]', 'u', 'x', :sealed, 2, 30, 0, :now, :now)"
            ),
            {"id": login_id, "account": account_id, "sealed": sealed, "now": now},
        )
    db.upgrade(engine)
    credentials = PortalCredentials(engine, box)
    login = credentials.get(login_id)
    assert credentials.saved_session(login, 0) == '{"cookies": []}'
    assert credentials.saved_session(login, 1) is None
    command.downgrade(db._alembic_config(engine), "0012")
    with engine.connect() as connection:
        kept = connection.execute(sa.text("SELECT storage_state_enc FROM portal_credentials")).scalar_one()
    assert kept == sealed
    engine.dispose()
