"""Folders and files that hold patient data or secrets: readable by the service's user only.

The data dir, the SQLite database (and its `-wal`/`-shm` companions, which SQLite creates with the
database file's mode), uploaded files and artifacts are created 0700 / 0600 whatever the umask,
and a database file found readable by others is tightened (it holds PHI).
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create `path` and its missing parents 0700; an existing folder is left as it is."""
    missing: list[Path] = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:  # another process made it in between
            continue
        os.chmod(folder, DIR_MODE)  # mkdir's mode is masked by the umask
    return path


def private_file(path: Path) -> Path:
    """Make sure `path` exists and is 0600 (created empty if missing; an existing file is tightened)."""
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        tighten(path)
    else:
        os.close(fd)
    return path


def tighten(path: Path) -> None:
    """Drop group and other permissions from an existing file of ours (no-op if already private)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return
    if mode & (stat.S_IRWXG | stat.S_IRWXO) and path.stat().st_uid == os.getuid():
        os.chmod(path, stat.S_IMODE(mode) & ~(stat.S_IRWXG | stat.S_IRWXO))
        log.warning("file was readable by other users; made private", extra={"path": str(path)})
