"""Where an attempt's screenshots, page HTML and traces live, and their pruning after the
retention period.

Artifacts show PHI: they live under the data dir (`artifacts/<account>/<task>/<trajectory>/`),
readable by the service's user only, are served only to the owning account, and are deleted after
`retention_days`. Portal secrets are not part of them: a Playwright trace records what was typed
and sent (the password among it), so traces are redacted of the login's secrets when saved, and
so is a page's HTML (a portal could echo a typed value back into the page).
"""

from __future__ import annotations

import html
import json
import os
import shutil
import tempfile
import time
import zipfile
from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path
from urllib.parse import quote, quote_plus

from runner.core.private import private_dir


class ScreenshotMode(StrEnum):
    """Which steps of an attempt get a screenshot (`SOPWRIGHT_SCREENSHOTS`)."""

    STEPS = "steps"  # every step: a viewport JPEG; the failing and the last step the full page
    FINAL = "final"  # the failing and the last step only, full page
    OFF = "off"  # none (a failing step still keeps its page HTML)


REDACTED = b"[redacted]"
# What each kind of artifact is served as (anything else is not an artifact sopwright writes).
MEDIA_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".html": "text/html; charset=utf-8",
    ".zip": "application/zip",
}


def media_type(path: Path) -> str:
    return MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")


def is_image(path: Path) -> bool:
    return media_type(path).startswith("image/")


class ArtifactStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def dir_for(self, account_id: str, task_id: str, trajectory_id: str) -> Path:
        path = self.root / account_id / task_id / trajectory_id
        private_dir(path)
        return path

    def resolve(self, relative: str) -> Path:
        """An artifact path recorded in the database, confined to the store."""
        path = (self.root / relative).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError("artifact path escapes the store")
        return path

    def relative(self, path: Path) -> str:
        return str(path.relative_to(self.root))

    def prune(self, *, older_than_days: float, now: float | None = None) -> int:
        """Delete trajectory folders last written before the cutoff; returns how many."""
        cutoff = (now if now is not None else time.time()) - older_than_days * 86_400
        removed = 0
        if not self.root.exists():
            return 0
        for trajectory in self.root.glob("*/*/*"):
            if trajectory.is_dir() and _newest_mtime(trajectory) < cutoff:
                shutil.rmtree(trajectory, ignore_errors=True)
                removed += 1
        return removed


def _newest_mtime(folder: Path) -> float:
    times = [p.stat().st_mtime for p in folder.rglob("*") if p.is_file()]
    return max(times, default=folder.stat().st_mtime)


def write_private(path: Path, data: bytes) -> None:
    """Write an artifact readable by its owner only (like its folder)."""
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(handle, "wb") as sink:
        sink.write(data)


def redact_bytes(data: bytes, secrets: Iterable[str]) -> tuple[bytes, int]:
    """`data` with every form of every secret replaced (see `redact_zip`), and how many were."""
    replaced = 0
    for needle in sorted(_forms(secrets), key=len, reverse=True):
        replaced += data.count(needle)
        data = data.replace(needle, REDACTED)
    return data, replaced


def redact_zip(path: Path, secrets: Iterable[str]) -> int:
    """Replace every secret in every member of the zip at `path` (raw, URL-encoded, JSON-escaped,
    HTML-escaped, as a trace holds typed values, form bodies and pages); returns how many were
    replaced. The file is rewritten atomically, readable by its owner only."""
    secrets = list(secrets)
    replaced = 0
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".zip.tmp")
    os.close(handle)
    try:
        with zipfile.ZipFile(path) as source, zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as target:
            for member in source.infolist():
                data, count = redact_bytes(source.read(member), secrets)
                replaced += count
                target.writestr(member, data)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return replaced


def _forms(secrets: Iterable[str]) -> set[bytes]:
    forms: set[bytes] = set()
    for secret in secrets:
        if len(secret) < 4:  # too short to tell from other text; never a real password
            continue
        escaped = (quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1], html.escape(secret))
        for text in (secret, *escaped):
            forms.add(text.encode())
    return forms
