"""The browser tier runs the runner on SQLite; one smoke test per module asks for PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'sopwright.db'}"
