"""The migrations build exactly the schema the models describe, on both backends, and go down cleanly."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from runner.core import db
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
