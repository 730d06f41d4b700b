"""Patient data on disk is readable by the service's user only, whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.core import db
from runner.core.crypto import SecretBox
from runner.core.files import FileStore, Upload
from runner.core.settings import Settings
from runner.core.system import build


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.usefixtures("loose_umask")
def test_a_new_data_dir_database_and_files_are_private(tmp_path: Path) -> None:
    data = tmp_path / "srv" / "sopwright"
    settings = Settings(
        data_dir=data,
        database_url=f"sqlite:///{data / 'sopwright.db'}",
        secret_key=SecretBox.generate_key(),
    )
    system = build(settings)
    try:
        system.accounts.create("Clinic A")  # writes through the WAL
        assert _mode(tmp_path / "srv") == 0o700
        assert _mode(data) == 0o700
        for name in ("sopwright.db", "sopwright.db-wal", "sopwright.db-shm"):
            assert _mode(data / name) == 0o600, name
        store = FileStore(data / "files")
        digest = store.put(Upload("a.pdf", "application/pdf", b"%PDF-1.4\n"))
        blob = store.path_for(digest)
        assert _mode(blob) == 0o600
        assert _mode(blob.parent) == 0o700
        assert _mode(data / "files") == 0o700
    finally:
        system.close()


@pytest.mark.usefixtures("loose_umask")
def test_an_existing_database_readable_by_others_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    path.touch(mode=0o644)
    os.chmod(path, 0o644)
    engine = db.create_engine(f"sqlite:///{path}")
    engine.dispose()
    assert _mode(path) == 0o600
